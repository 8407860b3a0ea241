namespace WebSsl.Language.Gguf;

/// <summary>A GGUF file that cannot be used as it is: names the file and the rule it breaks.</summary>
public sealed class GgufException(string file, string problem, Exception? inner = null) : WebSslException(ProblemKind.InvalidModel, "invalid-gguf", $"{file}: {problem}", inner)
{
    public string File { get; } = file;

    public string Problem { get; } = problem;
}
