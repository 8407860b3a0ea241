namespace WebSsl.Language.Engine;

public enum FinishReason
{
    /// <summary>The model produced an end-of-generation token.</summary>
    EndOfGeneration,

    /// <summary>A stop string appeared.</summary>
    StopString,

    /// <summary>The token limit (request or session context) was reached.</summary>
    Length,

    /// <summary>The KV cache had no room left for this conversation.</summary>
    ContextFull,
}

/// <summary>Counts and timings of one generation.</summary>
public sealed record GenerationUsage
{
    /// <summary>Positions in the prompt (text tokens + image tokens).</summary>
    public int PromptTokens { get; init; }

    public int ImageTokens { get; init; }

    /// <summary>Prompt positions found in the session's KV cache and not decoded again.</summary>
    public int CachedPromptTokens { get; init; }

    public int GeneratedTokens { get; init; }

    /// <summary>Waiting for a free slot.</summary>
    public TimeSpan QueueTime { get; init; }

    /// <summary>Decoding the uncached part of the prompt.</summary>
    public TimeSpan PrefillTime { get; init; }

    /// <summary>From submission to the first generated token.</summary>
    public TimeSpan FirstTokenLatency { get; init; }

    /// <summary>From the first generated token to the last.</summary>
    public TimeSpan GenerationTime { get; init; }

    public double TokensPerSecond => GeneratedTokens > 1 && GenerationTime > TimeSpan.Zero ? (GeneratedTokens - 1) / GenerationTime.TotalSeconds : 0;
}

/// <summary>The whole answer, reported with the last chunk of a stream.</summary>
public sealed record GenerationResult(string Text, FinishReason FinishReason, IReadOnlyList<int> Tokens, GenerationUsage Usage);

/// <summary>A piece of streamed text (always whole UTF-8 characters); the last chunk also carries the result.</summary>
public sealed record GenerationChunk(string Text, GenerationResult? Final = null);

/// <summary>The engine's queue is full: the request was refused at once rather than left waiting.</summary>
public sealed class EngineBusyException(string message) : WebSslException(ProblemKind.Busy, "busy", message);

/// <summary>The prompt does not fit the per-session context.</summary>
public sealed class PromptTooLongException(string message) : WebSslException(ProblemKind.BadInput, "prompt-too-long", message);
