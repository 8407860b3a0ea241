using System.Text.Json.Serialization;
using WebSsl.Multimodal.Assistant;

namespace WebSsl.Assistant.Server.Chat;

/// <summary>A question sent to the hub's Ask stream. Images are referred to by the ids POST /api/images returned.</summary>
public sealed record AskRequest
{
    /// <summary>The conversation to continue; null starts a new one (its id comes back in the "started" event).</summary>
    public string? ConversationId { get; init; }

    public string Text { get; init; } = "";

    public IReadOnlyList<string> ImageIds { get; init; } = [];

    /// <summary>general, ocr, chart or document.</summary>
    public string? Task { get; init; }

    /// <summary>Answer the last question of the conversation again, replacing its answer (Text and ImageIds are ignored).</summary>
    public bool Regenerate { get; init; }

    /// <summary>Longest answer; default 512 tokens, at most the assistant's MaxAnswerTokens.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>0 (default) answers greedily: the most likely reading, the same every time.</summary>
    public float? Temperature { get; init; }

    public uint? Seed { get; init; }

    /// <summary>Keep generating past the end-of-generation token (as llama.cpp's server's ignore_eos); for load tests.</summary>
    public bool IgnoreEos { get; init; }
}

/// <summary>
/// One event of an answer stream; <see cref="Type"/> says which fields are set:
/// "started" (conversation, turn, title), "image-processed" (image), "token" (text), "done" (answer details),
/// "error" (code, message). A stream ends after "done" or "error".
/// </summary>
public sealed record StreamEvent
{
    public required string Type { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ConversationId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TurnId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Title { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImageInfo? Image { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Text { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AnswerDetails? Done { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Code { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Message { get; init; }

    public static StreamEvent Started(string conversationId, string turnId, string title) =>
        new() { Type = "started", ConversationId = conversationId, TurnId = turnId, Title = title };

    public static StreamEvent ImageProcessed(ImageInfo image) => new() { Type = "image-processed", Image = image };

    public static StreamEvent Token(string text) => new() { Type = "token", Text = text };

    public static StreamEvent Completed(string conversationId, string turnId, AnswerDetails details) =>
        new() { Type = "done", ConversationId = conversationId, TurnId = turnId, Done = details };

    public static StreamEvent Error(string code, string message, string? conversationId = null, string? turnId = null) =>
        new() { Type = "error", Code = code, Message = message, ConversationId = conversationId, TurnId = turnId };
}

/// <summary>
/// What was done to one image: its size, the encoder's input (views of <c>Resolution</c> pixels: the global view, plus the
/// tiles of <c>Grid</c> when it was read in tiles), the tokens it became and the time it took.
/// </summary>
public sealed record ImageInfo(int Index, string Name, int Width, int Height, int Resolution, string Preprocess, int Tokens, double Milliseconds, bool Cached)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Grid { get; init; }

    public int Views { get; init; } = 1;

    public static ImageInfo From(ImageReport r) =>
        new(r.Index, r.Name, r.OriginalWidth, r.OriginalHeight, r.Resolution, r.Preprocess, r.Tokens, Math.Round(r.EncodeMilliseconds, 1), r.FromCache)
        {
            Grid = r.Grid,
            Views = r.Views,
        };
}

public sealed record AnswerUsage(int PromptTokens, int ImageTokens, int CachedPromptTokens, int GeneratedTokens);

public sealed record AnswerTimings(double EncodeMs, double PrefillMs, double FirstTokenMs, double TokensPerSecond, double TotalMs);

/// <summary>How an answer ended, with its counts and timings (shown under each answer in the browser, kept with the turn).</summary>
public sealed record AnswerDetails(string FinishReason, AnswerUsage Usage, AnswerTimings Timings, IReadOnlyList<ImageInfo> Images)
{
    public static AnswerDetails From(AssistantAnswer answer, double totalMilliseconds)
    {
        AnswerMetrics m = answer.Metrics;
        return new AnswerDetails(
            FinishReasons.Name(answer.FinishReason),
            new AnswerUsage(m.PromptTokens, m.ImageTokens, m.CachedPromptTokens, m.GeneratedTokens),
            new AnswerTimings(Math.Round(m.ImageEncodeMilliseconds, 1), Math.Round(m.PrefillMilliseconds, 1), Math.Round(m.FirstTokenMilliseconds, 1),
                Math.Round(m.TokensPerSecond, 1), Math.Round(totalMilliseconds, 1)),
            answer.Images.Select(ImageInfo.From).ToList());
    }
}

public static class FinishReasons
{
    public static string Name(Language.Engine.FinishReason reason) => reason switch
    {
        Language.Engine.FinishReason.EndOfGeneration => "stop",
        Language.Engine.FinishReason.StopString => "stop",
        Language.Engine.FinishReason.Length => "length",
        Language.Engine.FinishReason.ContextFull => "context-full",
        _ => reason.ToString().ToLowerInvariant(),
    };
}
