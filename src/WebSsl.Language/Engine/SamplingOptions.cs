namespace WebSsl.Language.Engine;

/// <summary>How the next token is chosen, and when generation stops. Defaults suit chat; <see cref="Greedy"/> suits evaluation.</summary>
public sealed record SamplingOptions
{
    /// <summary>0 = greedy (always the most likely token).</summary>
    public float Temperature { get; init; } = 0.7f;
    public float TopP { get; init; } = 0.95f;
    public int TopK { get; init; } = 40;
    public float MinP { get; init; } = 0.05f;

    /// <summary>1 = off; above 1 discourages repeating any of the last <see cref="RepetitionWindow"/> tokens.</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;
    public int RepetitionWindow { get; init; } = 64;

    /// <summary>Fixed seed for reproducible sampling; null = a new random seed per request.</summary>
    public uint? Seed { get; init; }

    public int MaxTokens { get; init; } = 512;

    /// <summary>Generation ends before the first occurrence of any of these strings (which is not returned).</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Keep generating through end-of-generation tokens until <see cref="MaxTokens"/> (benchmarks, like llama.cpp's ignore_eos).</summary>
    public bool IgnoreEndOfGeneration { get; init; }

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0f };

    internal void Validate()
    {
        if (MaxTokens <= 0)
        {
            throw new BadInputException($"max tokens must be positive, got {MaxTokens}.");
        }
        if (Temperature < 0 || TopP is <= 0 or > 1 || MinP is < 0 or > 1 || TopK < 0 || RepetitionPenalty <= 0)
        {
            throw new BadInputException($"sampling options out of range (temperature >= 0, 0 < top_p <= 1, 0 <= min_p <= 1, top_k >= 0, repetition penalty > 0): {this}.");
        }
        if (Stop.Any(string.IsNullOrEmpty))
        {
            throw new BadInputException("stop strings must not be empty.");
        }
    }
}
