namespace WebSsl.Multimodal.Assistant;

/// <summary>What kind of question is asked; each selects its prompt from prompts/tasks.</summary>
public enum AssistantTask
{
    General,
    Ocr,
    Chart,
    Document,
}

/// <summary>Task prompts: the system prompt for a task and how a user's question is phrased for it.</summary>
public interface ITaskPrompts
{
    ValueTask<TaskPrompt> RenderAsync(AssistantTask task, string question, CancellationToken cancellationToken = default);
}

/// <summary>A rendered task prompt: an optional system message and the user message.</summary>
public sealed record TaskPrompt(string? System, string User);

/// <summary>No task prompts at all: the question as asked, no system prompt (used when no prompt files are configured).</summary>
public sealed class PlainTaskPrompts : ITaskPrompts
{
    public static PlainTaskPrompts Instance { get; } = new();

    public ValueTask<TaskPrompt> RenderAsync(AssistantTask task, string question, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new TaskPrompt(null, question));
}

public static class AssistantTasks
{
    public static AssistantTask Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "general" or "" => AssistantTask.General,
        "ocr" => AssistantTask.Ocr,
        "chart" => AssistantTask.Chart,
        "document" or "doc" => AssistantTask.Document,
        _ => throw new BadInputException($"task '{text}' is not known; use general, ocr, chart or document."),
    };
}
