namespace WebSsl.Multimodal.Adapters;

/// <summary>An adapter used with an encoder or LLM other than the one it was trained for; lists every field that differs.</summary>
public sealed class AdapterMismatchException(string adapter, IReadOnlyList<string> differences)
    : WebSslException(ProblemKind.ModelMismatch, "adapter-mismatch", $"{adapter}: this adapter does not fit the models given:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", differences))
{
    public string Adapter { get; } = adapter;

    public IReadOnlyList<string> Differences { get; } = differences;
}
