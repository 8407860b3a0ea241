using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;

namespace WebSsl.Multimodal.Assistant;

/// <summary>One image of a question, as the assistant handed it to the model: never silently downscaled without saying so.</summary>
public sealed record ImageReport(
    int Index,
    string Name,
    int OriginalWidth,
    int OriginalHeight,
    int Resolution,
    string Preprocess,
    int Tokens,
    double EncodeMilliseconds,
    bool FromCache)
{
    /// <summary>Columns and rows of the tiles read besides the global view (1×1: the image was read as one view).</summary>
    public int GridColumns { get; init; } = 1;

    public int GridRows { get; init; } = 1;

    /// <summary>"3x2" when the image was read in tiles besides its global view, else null.</summary>
    public string? Grid => GridColumns * GridRows > 1 ? $"{GridColumns}x{GridRows}" : null;

    /// <summary>Encoder inputs the image became, each of <see cref="Resolution"/> pixels square: the global view and the tiles.</summary>
    public int Views => 1 + (Grid is null ? 0 : GridColumns * GridRows);

    /// <summary>How much the image was reduced to reach the encoder (1 = not at all): to its global view, or to its tiles' grid when tiled.</summary>
    public double DownscaleFactor => Math.Max(1.0, Grid is null
        ? (double)Math.Max(OriginalWidth, OriginalHeight) / Resolution
        : Math.Max((double)OriginalWidth / (GridColumns * Resolution), (double)OriginalHeight / (GridRows * Resolution)));

    /// <summary>How the image was read, for a person: "2480x3508 -> 224px + 2x3 tiles of 224px pad, 1575 tokens".</summary>
    public string Describe() =>
        $"{OriginalWidth}x{OriginalHeight}->{Resolution}px{(Grid is null ? "" : $" + {Grid} tiles")} {Preprocess}, {Tokens} tokens{(FromCache ? ", cached" : "")}";
}

/// <summary>Counts and timings of one answer.</summary>
public sealed record AnswerMetrics(
    double ImageEncodeMilliseconds,
    double PrefillMilliseconds,
    double FirstTokenMilliseconds,
    double TokensPerSecond,
    int PromptTokens,
    int ImageTokens,
    int CachedPromptTokens,
    int GeneratedTokens);

public sealed record AssistantAnswer(string Text, FinishReason FinishReason, AnswerMetrics Metrics, IReadOnlyList<ImageReport> Images)
{
    /// <summary>The generated token ids (give them back with the message to replay the conversation exactly).</summary>
    public IReadOnlyList<int> Tokens { get; init; } = [];

    /// <summary>One line for logs and terminals.</summary>
    public string TimingLine =>
        $"images {Images.Count} ({string.Join(", ", Images.Select(i => i.Describe()))}); " +
        $"encode {Metrics.ImageEncodeMilliseconds:F0} ms, prefill {Metrics.PrefillMilliseconds:F0} ms, first token {Metrics.FirstTokenMilliseconds:F0} ms, " +
        $"{Metrics.TokensPerSecond:F1} tokens/s; prompt {Metrics.PromptTokens} ({Metrics.ImageTokens} image, {Metrics.CachedPromptTokens} cached), " +
        $"generated {Metrics.GeneratedTokens}; finish {FinishReason}";
}

/// <summary>What an answer stream yields: each image once processed, then text pieces, then the answer with its metadata.</summary>
public abstract record AssistantEvent;

public sealed record ImageProcessed(ImageReport Image) : AssistantEvent;

public sealed record TextDelta(string Text) : AssistantEvent;

public sealed record AnswerCompleted(AssistantAnswer Answer) : AssistantEvent;

/// <summary>An image for a question: its bytes and a name for messages (file name, upload id...).</summary>
public sealed record AssistantImage(ReadOnlyMemory<byte> Bytes, string Name)
{
    public static AssistantImage FromFile(string path) => new(File.ReadAllBytes(path), Path.GetFileName(path));
}

/// <summary>
/// One message of a conversation replayed to the assistant (e.g. by a stateless chat client): text, images, and for
/// assistant messages the tokens generated for them when known.
/// </summary>
public sealed record AssistantMessage(ChatRole Role, string Text)
{
    public IReadOnlyList<AssistantImage> Images { get; init; } = [];
    public IReadOnlyList<int>? Tokens { get; init; }
}


/// <summary>Per-request choices: sampling, and preprocessing within the adapter's limits.</summary>
public sealed record AssistantRequest
{
    public SamplingOptions? Sampling { get; init; }
    public Vision.Images.PreprocessMode? Preprocess { get; init; }
    public int? Resolution { get; init; }
    public Vision.Images.ImageEnhancement Enhancement { get; init; }
}

/// <summary>One question: text, images, task, and optional per-request choices.</summary>
public sealed record AssistantQuestion(string Text)
{
    public IReadOnlyList<AssistantImage> Images { get; init; } = [];
    public AssistantTask? Task { get; init; }
    public SamplingOptions? Sampling { get; init; }

    /// <summary>crop, pad or stretch instead of the adapter's own preprocessing.</summary>
    public Vision.Images.PreprocessMode? Preprocess { get; init; }

    /// <summary>Another square input resolution (adapters with a token grid only).</summary>
    public int? Resolution { get; init; }

    public Vision.Images.ImageEnhancement Enhancement { get; init; }
}
