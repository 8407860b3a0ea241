namespace WebSsl.Vision.Checkpoints;

/// <summary>
/// A checkpoint that cannot be loaded as it is: names the file, the tensor key (when one is involved) and the rule.
/// Loading never returns a partially filled model; this is thrown before any weight is used.
/// </summary>
public sealed class CheckpointException : WebSslException
{
    public CheckpointException(string file, string? key, string problem, Exception? inner = null)
        : base(ProblemKind.InvalidModel, "invalid-checkpoint", Format(file, key, problem), inner)
    {
        File = file;
        Key = key;
        Problem = problem;
    }

    /// <summary>The file (or folder) at fault.</summary>
    public string File { get; }

    /// <summary>The tensor or config key at fault, when there is one.</summary>
    public string? Key { get; }

    /// <summary>What rule was broken and, where it helps, what to do.</summary>
    public string Problem { get; }

    private static string Format(string file, string? key, string problem) =>
        key is null ? $"{file}: {problem}" : $"{file}: '{key}': {problem}";
}
