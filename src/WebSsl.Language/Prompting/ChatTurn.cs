namespace WebSsl.Language.Prompting;

public enum ChatRole
{
    System,
    User,
    Assistant,
}

/// <summary>
/// One turn of a conversation. A user turn may carry images; each is placed where <see cref="ImageMarker"/> appears in the
/// text, in order, or, when the text has fewer markers than images, the remaining images go first, each on its own line
/// (as LLaVA places "&lt;image&gt;\n" before the question). An assistant turn may carry the tokens the model generated for
/// it, so that replaying the conversation reproduces exactly what is in the KV cache.
/// </summary>
public sealed record ChatTurn(ChatRole Role, string Text)
{
    public const string ImageMarker = "<image>";

    public IReadOnlyList<ImageEmbedding> Images { get; init; } = [];

    /// <summary>For assistant turns: the generated token ids (used instead of re-tokenizing <see cref="Text"/>).</summary>
    public IReadOnlyList<int>? GeneratedTokens { get; init; }

    public static ChatTurn System(string text) => new(ChatRole.System, text);

    public static ChatTurn User(string text, params ImageEmbedding[] images) => new(ChatRole.User, text) { Images = images };

    public static ChatTurn Assistant(string text, IReadOnlyList<int>? generatedTokens = null) =>
        new(ChatRole.Assistant, text) { GeneratedTokens = generatedTokens };
}
