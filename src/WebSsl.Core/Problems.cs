namespace WebSsl;

/// <summary>The one mapping from a <see cref="ProblemKind"/> to what each surface reports.</summary>
public static class Problems
{
    /// <summary>The exit code of a command that failed on a fault of the program.</summary>
    public const int InternalErrorExitCode = 1;

    /// <summary>The exit code of a command the user must change before trying again.</summary>
    public const int InputErrorExitCode = 2;

    /// <summary>The exit code of a command that may succeed if run again shortly (sysexits' EX_TEMPFAIL).</summary>
    public const int TryAgainExitCode = 75;

    /// <summary>The exit code of a cancelled command (128 + SIGINT, as shells report Ctrl+C).</summary>
    public const int CancelledExitCode = 130;

    /// <summary>The HTTP status of a request that failed with a problem of this kind.</summary>
    public static int HttpStatus(ProblemKind kind) => kind switch
    {
        ProblemKind.BadInput => 400,
        ProblemKind.Unauthorized => 401,
        ProblemKind.Forbidden => 403,
        ProblemKind.NotFound => 404,
        ProblemKind.Conflict => 409,
        ProblemKind.TooLarge => 413,
        ProblemKind.Unsupported => 415,
        ProblemKind.Unprocessable or ProblemKind.InvalidModel or ProblemKind.ModelMismatch => 422,
        ProblemKind.Unavailable => 502,
        ProblemKind.Busy => 503,
        ProblemKind.Configuration or ProblemKind.JobFailed => 500,
        _ => 500,
    };

    /// <summary>The exit code of a command that failed with a problem of this kind.</summary>
    public static int ExitCode(ProblemKind kind) => kind is ProblemKind.Busy or ProblemKind.Conflict or ProblemKind.Unavailable
        ? TryAgainExitCode
        : InputErrorExitCode;

    /// <summary>
    /// Whether the message is for the client. Problems with the server's own models, settings or jobs are its
    /// operator's: their messages name server paths, so a client is told only that the server failed.
    /// </summary>
    public static bool IsForClient(ProblemKind kind) =>
        kind is not (ProblemKind.InvalidModel or ProblemKind.ModelMismatch or ProblemKind.Configuration or ProblemKind.JobFailed or ProblemKind.Unavailable);

    /// <summary>Whether the client may simply retry (what the OpenAI API's clients and the browser app do with it).</summary>
    public static bool IsRetryable(ProblemKind kind) => kind is ProblemKind.Busy or ProblemKind.Unavailable;
}
