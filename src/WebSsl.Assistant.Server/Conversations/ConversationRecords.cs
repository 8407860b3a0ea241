using System.Text.Json.Serialization;
using WebSsl.Assistant.Server.Chat;

namespace WebSsl.Assistant.Server.Conversations;

public sealed record ConversationSummary(string Id, string Title, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int Turns);

/// <summary>Where a turn stands: running while answered; done, stopped (by the user), failed, or interrupted (server stopped).</summary>
public static class TurnStatus
{
    public const string Running = "running";
    public const string Done = "done";
    public const string Stopped = "stopped";
    public const string Failed = "failed";
    public const string Interrupted = "interrupted";
}

/// <summary>One question and its answer.</summary>
public sealed record ConversationTurn
{
    public required string Id { get; init; }
    public int Sequence { get; init; }
    public required string Question { get; init; }
    public IReadOnlyList<string> ImageIds { get; init; } = [];
    public string Task { get; init; } = "general";
    public string Answer { get; init; } = "";

    /// <summary>The answer's token ids, replayed to the engine so its KV cache matches exactly; not sent to clients.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> AnswerTokens { get; init; } = [];

    public string Status { get; init; } = TurnStatus.Running;
    public string? Error { get; init; }
    public AnswerDetails? Details { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
}

public sealed record Conversation(string Id, string Title, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<ConversationTurn> Turns);
