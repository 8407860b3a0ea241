namespace WebSsl.Language.Prompting;

/// <summary>A run of the prompt: token ids, or the embedding rows of one image.</summary>
public abstract record PromptSegment
{
    public abstract int Length { get; }
}

public sealed record TokenSegment(IReadOnlyList<int> Tokens) : PromptSegment
{
    public override int Length => Tokens.Count;
}

public sealed record EmbeddingSegment(ImageEmbedding Image) : PromptSegment
{
    public override int Length => Image.Tokens;
}

/// <summary>One KV-cache position: a token id, or row <see cref="Row"/> of an image embedding.</summary>
public readonly record struct PromptItem(int Token, ImageEmbedding? Image, int Row)
{
    public bool IsToken => Image is null;

    /// <summary>Equal when the same token, or the same row of the same image content.</summary>
    public bool SameAs(PromptItem other) =>
        IsToken ? other.IsToken && Token == other.Token : !other.IsToken && Row == other.Row && Image!.Id == other.Image!.Id;
}

/// <summary>A prompt as llama.cpp will consume it: segments of tokens and image embeddings, in order.</summary>
public sealed record Prompt(IReadOnlyList<PromptSegment> Segments)
{
    public int Length => Segments.Sum(s => s.Length);

    public int ImageTokens => Segments.OfType<EmbeddingSegment>().Sum(s => s.Length);

    public int TextTokens => Length - ImageTokens;

    public static Prompt FromTokens(IReadOnlyList<int> tokens) => new([new TokenSegment(tokens)]);

    /// <summary>The positions in order.</summary>
    public IEnumerable<PromptItem> Items()
    {
        foreach (PromptSegment segment in Segments)
        {
            switch (segment)
            {
                case TokenSegment tokens:
                    foreach (int token in tokens.Tokens)
                    {
                        yield return new PromptItem(token, null, 0);
                    }
                    break;
                case EmbeddingSegment image:
                    for (int row = 0; row < image.Image.Tokens; row++)
                    {
                        yield return new PromptItem(0, image.Image, row);
                    }
                    break;
            }
        }
    }
}
