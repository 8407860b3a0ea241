namespace WebSsl.Language.Engine;

/// <summary>Capacity of a <see cref="LanguageEngine"/>.</summary>
public sealed record EngineOptions
{
    /// <summary>Conversations whose KV cache stays resident (llama.cpp sequences); also the most that generate at once.</summary>
    public int MaxSessions { get; init; } = 8;

    /// <summary>Requests that may wait for a free slot; beyond this a request is refused with <see cref="EngineBusyException"/>.</summary>
    public int MaxQueue { get; init; } = 32;

    /// <summary>KV cache cells shared by all sessions.</summary>
    public int ContextSize { get; init; } = 8192;

    /// <summary>Longest conversation (prompt + answer) one session may hold.</summary>
    public int MaxSessionTokens { get; init; } = 4096;

    /// <summary>Positions per llama.cpp decode call (prompt chunks and image embeddings are split to fit).</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>CPU threads for llama.cpp; null = one per core.</summary>
    public int? Threads { get; init; }

    /// <summary>Flash attention off and an F32 KV cache: logits reproducible to ~1e-6 (for checks against other implementations).</summary>
    public bool ExactAttention { get; init; }

    internal void Validate()
    {
        if (MaxSessions < 1 || MaxQueue < 0 || BatchSize < 1 || MaxSessionTokens < 2 || ContextSize < MaxSessionTokens)
        {
            throw new BadInputException($"engine options out of range (sessions >= 1, queue >= 0, batch >= 1, context >= session tokens): {this}.");
        }
    }
}
