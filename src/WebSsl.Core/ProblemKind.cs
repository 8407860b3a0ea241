namespace WebSsl;

/// <summary>
/// What kind of problem an error is, as every surface reports it: the HTTP status and problem body of the APIs, the
/// error code of the SignalR hub, the exit code of the command line (see <see cref="Problems"/>). Anything that is not
/// a <see cref="WebSslException"/> is a fault of the program: an internal error, reported without its details.
/// </summary>
public enum ProblemKind
{
    /// <summary>The request or command is malformed or breaks a rule (a limit, a range, a required part).</summary>
    BadInput,

    /// <summary>What was named does not exist (a conversation, an image, a file, a repository).</summary>
    NotFound,

    /// <summary>Too big to take (bytes, pixels, positions).</summary>
    TooLarge,

    /// <summary>A format or feature this program does not read or do.</summary>
    Unsupported,

    /// <summary>Well formed, but its content cannot be used (a corrupt image, a truncated upload).</summary>
    Unprocessable,

    /// <summary>A model file is damaged or not what it claims (checkpoint, GGUF, adapter, chat template, demo bundle).</summary>
    InvalidModel,

    /// <summary>Models that do not belong together (an adapter trained for another encoder or LLM).</summary>
    ModelMismatch,

    /// <summary>The request clashes with work in progress on the same thing (a conversation already answering).</summary>
    Conflict,

    /// <summary>No capacity now; the same request may succeed shortly.</summary>
    Busy,

    /// <summary>A key or token is missing or not accepted.</summary>
    Unauthorized,

    /// <summary>Who is asking may not ask this here (a foreign web page, an unknown Host).</summary>
    Forbidden,

    /// <summary>A service this needs (the HuggingFace hub) cannot be reached or answered nonsense.</summary>
    Unavailable,

    /// <summary>A setting of the program is wrong (an address, a path); nothing a client can change.</summary>
    Configuration,

    /// <summary>A long job stopped on its own terms (training diverged); what it left is described in the message.</summary>
    JobFailed,
}
