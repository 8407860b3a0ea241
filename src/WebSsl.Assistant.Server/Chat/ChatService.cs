using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using WebSsl.Assistant.Server.Conversations;
using WebSsl.Assistant.Server.Hosting;
using WebSsl.Assistant.Server.Telemetry;
using WebSsl.Language.Prompting;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.Server.Chat;

/// <summary>
/// Answers questions in stored conversations: records the question first, replays the conversation (each conversation
/// keeps its engine session, so only what is new is decoded), streams the answer as <see cref="StreamEvent"/>s and
/// stores how it ended — done, stopped by the client (with the text so far), or failed — whatever the client does.
/// </summary>
public sealed class ChatService(
    ModelLoader loader,
    ConversationStore conversations,
    IImageStore images,
    ServerMetrics metrics,
    ILogger<ChatService> logger)
{
    private const int TitleLength = 60;

    /// <summary>Keys of the hub's conversations in the assistant's session pool, apart from the OpenAI API's client-chosen ids.</summary>
    private const string PoolPrefix = "hub:";

    public async IAsyncEnumerable<StreamEvent> AskAsync(AskRequest request, string surface, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Prepared? prepared = null;
        StreamEvent? refusal = null;
        try
        {
            prepared = await PrepareAsync(request, cancellationToken);
        }
        catch (Exception e)
        {
            Failures.Failure failure = Failures.Describe(e);
            if (failure.IsInternal)
            {
                logger.LogError(e, "Preparing a question failed (correlation id {CorrelationId})", failure.CorrelationId);
            }
            refusal = StreamEvent.Error(failure.Code, failure.Message, request.ConversationId);
        }
        if (prepared is null)
        {
            metrics.Request(surface, refusal!.Code!);
            yield return refusal;
            yield break;
        }

        using Prepared p = prepared;
        var clock = Stopwatch.StartNew();
        var answer = new StringBuilder();
        IReadOnlyList<int> tokens = [];
        string status = TurnStatus.Stopped;
        AnswerDetails? details = null;
        string? error = null;
        yield return StreamEvent.Started(p.ConversationId, p.Turn.Id, p.Title);
        try
        {
            await using IAsyncEnumerator<AssistantEvent> events = p.Assistant.ChatAsync(p.Session.Session, p.Messages, p.Task, p.Request, cancellationToken)
                .GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                AssistantEvent? current = null;
                Exception? failed = null;
                try
                {
                    current = await events.MoveNextAsync() ? events.Current : null;
                }
                catch (Exception e)
                {
                    failed = e;
                }
                if (failed is not null)
                {
                    Failures.Failure failure = Failures.Describe(failed);
                    status = failure.Code == "cancelled" ? TurnStatus.Stopped : TurnStatus.Failed;
                    error = failure.Message;
                    if (failure.IsInternal)
                    {
                        logger.LogError(failed, "Answering in conversation {Conversation} failed (correlation id {CorrelationId})", p.ConversationId, failure.CorrelationId);
                    }
                    metrics.Request(surface, failure.Code);
                    yield return StreamEvent.Error(failure.Code, failure.Message, p.ConversationId, p.Turn.Id);
                    yield break;
                }
                switch (current)
                {
                    case null:
                        yield break;
                    case ImageProcessed image:
                        yield return StreamEvent.ImageProcessed(ImageInfo.From(image.Image));
                        break;
                    case TextDelta delta:
                        answer.Append(delta.Text);
                        yield return StreamEvent.Token(delta.Text);
                        break;
                    case AnswerCompleted done:
                        answer.Clear().Append(done.Answer.Text);
                        tokens = done.Answer.Tokens;
                        details = AnswerDetails.From(done.Answer, clock.Elapsed.TotalMilliseconds);
                        status = TurnStatus.Done;
                        metrics.Answer(done.Answer);
                        metrics.Request(surface, "ok");
                        yield return StreamEvent.Completed(p.ConversationId, p.Turn.Id, details);
                        break;
                }
            }
        }
        finally
        {
            // Runs however the stream ends, including when the client disposes it or disconnects mid-answer.
            if (status == TurnStatus.Stopped && error is null)
            {
                error = "stopped by the client";
                metrics.Request(surface, "cancelled");
            }
            await conversations.CompleteTurnAsync(p.Turn.Id, answer.ToString(), tokens, status, details, status == TurnStatus.Done ? null : error, CancellationToken.None);
        }
    }

    /// <summary>Forgets a conversation's engine session (after it is deleted).</summary>
    public void Forget(string conversationId)
    {
        if (loader.TryGet().Assistant is { } assistant)
        {
            assistant.Sessions.Forget(PoolPrefix + conversationId);
        }
    }

    private async Task<Prepared> PrepareAsync(AskRequest request, CancellationToken cancellationToken)
    {
        (VisionAssistant? assistant, string code, string message) = loader.TryGet();
        if (assistant is null)
        {
            throw new RequestRefusedException(ProblemKind.Busy, code, message);
        }
        Conversation? conversation = null;
        if (request.ConversationId is { Length: > 0 } id)
        {
            conversation = await conversations.GetAsync(id, cancellationToken)
                ?? throw new RequestRefusedException(ProblemKind.NotFound, "conversation-not-found", $"conversation '{id}' does not exist (deleted, or from another server).");
        }
        // JSON clients may send null for either.
        string text = request.Text ?? "";
        IReadOnlyList<string> imageIds = request.ImageIds ?? [];
        string taskName = request.Task ?? "general";
        IReadOnlyList<ConversationTurn> history = conversation?.Turns ?? [];
        if (request.Regenerate)
        {
            ConversationTurn last = history.LastOrDefault()
                ?? throw new RequestRefusedException(ProblemKind.BadInput, "bad-request", "regenerate needs a conversation with at least one question.");
            (text, imageIds, taskName) = (last.Question, last.ImageIds, request.Task ?? last.Task);
            history = history.Take(history.Count - 1).ToList();
        }
        AssistantTask task = AssistantTasks.Parse(taskName);
        assistant.CheckImagesPerQuestion(imageIds.Count); // before the images are looked up, so a flood of ids costs nothing
        var messages = new List<AssistantMessage>();
        foreach (ConversationTurn turn in history.Where(t => t.Status is TurnStatus.Done or TurnStatus.Stopped && t.Answer.Length > 0))
        {
            messages.Add(new AssistantMessage(ChatRole.User, turn.Question) { Images = turn.ImageIds.Select(LoadImage).ToList() });
            messages.Add(new AssistantMessage(ChatRole.Assistant, turn.Answer) { Tokens = turn.AnswerTokens.Count > 0 ? turn.AnswerTokens : null });
        }
        messages.Add(new AssistantMessage(ChatRole.User, text) { Images = imageIds.Select(LoadImage).ToList() });
        var sampling = VisionAssistant.DefaultSampling with
        {
            MaxTokens = request.MaxTokens ?? VisionAssistant.DefaultSampling.MaxTokens,
            Temperature = request.Temperature ?? 0f,
            Seed = request.Seed,
            IgnoreEndOfGeneration = request.IgnoreEos,
        };
        var assistantRequest = new AssistantRequest { Sampling = sampling };
        assistant.Validate(messages, assistantRequest); // the one validation, before anything is recorded

        string title = conversation?.Title ?? Title(text, imageIds.Count);
        string conversationId = conversation?.Id ?? (await conversations.CreateAsync(title, cancellationToken)).Id;
        SessionLease session = assistant.Sessions.Enter(PoolPrefix + conversationId);
        try
        {
            if (request.Regenerate)
            {
                ConversationTurn last = conversation!.Turns[^1];
                if (last.Status == TurnStatus.Running)
                {
                    throw new RequestRefusedException(ProblemKind.Conflict, "conversation-busy", "the last question is still being answered; stop it before regenerating.");
                }
                await conversations.DeleteTurnAsync(last.Id, cancellationToken);
            }
            ConversationTurn stored = await conversations.AddTurnAsync(conversationId, text, imageIds, task.ToString().ToLowerInvariant(), cancellationToken);
            return new Prepared(assistant, conversationId, title, stored, session, messages, task, assistantRequest);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private AssistantImage LoadImage(string id) => images.TryGet(id, out AssistantImage image)
        ? image
        : throw new RequestRefusedException(ProblemKind.NotFound, "image-not-found", $"image '{id}' is not stored here; upload it with POST /api/images first.");

    private static string Title(string text, int imageCount)
    {
        string line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        if (line.Length == 0)
        {
            return imageCount == 1 ? "Image" : $"{imageCount} images";
        }
        return line.Length <= TitleLength ? line : line[..(TitleLength - 1)].TrimEnd() + "…";
    }

    private sealed record Prepared(VisionAssistant Assistant, string ConversationId, string Title, ConversationTurn Turn, SessionLease Session,
        List<AssistantMessage> Messages, AssistantTask Task, AssistantRequest Request) : IDisposable
    {
        public void Dispose() => Session.Dispose();
    }
}
