using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using WebSsl.Language.Engine;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.SemanticKernel;

/// <summary>
/// WebSsl.Assistant as a Microsoft.Extensions.AI <see cref="IChatClient"/>: messages may carry images and PDFs as
/// <see cref="DataContent"/> (image/*, application/pdf) or <see cref="UriContent"/> (file: URIs); a PDF is read as its
/// pages (all, or <c>AdditionalProperties["pages"]</c>: "3" or "2-5"), each an image of the question. <see cref="ChatOptions"/> map to
/// sampling (temperature, top-p, top-k, max tokens, stop sequences, seed; AdditionalProperties["ignore_eos"] as llama.cpp's server) and usage is reported,
/// with how each image was read (<see cref="ImageReport"/>s in the last update's <c>AdditionalProperties["images"]</c>). The task comes from
/// <c>ChatOptions.AdditionalProperties["task"]</c> (general, ocr, chart, document). Calls with the same
/// <see cref="ChatOptions.ConversationId"/> share one session, so follow-ups reuse its KV cache; one call at a time per
/// conversation (a second gets <see cref="ConversationBusyException"/> at once), sessions bounded by the assistant's
/// <see cref="SessionPool"/>, ids by its rule (<see cref="SessionPool.IdProblem"/>). Through Semantic Kernel's
/// bridge (<c>AsChatCompletionService()</c>) it is also an IChatCompletionService taking ChatHistory with ImageContent.
/// </summary>
public sealed class WebSslChatClient(AssistantHost host) : IChatClient
{
    private const int RememberedAnswers = 256;
    private const string PdfMediaType = "application/pdf";
    /// <summary>Keys of this client's conversations in the assistant's pool, apart from the server's own conversations.</summary>
    private const string PoolPrefix = "chat:";

    /// <summary>The key of the last update's <see cref="ImageReport"/> list: per image, its size, grid, views and tokens.</summary>
    public const string ImagesProperty = "images";
    private readonly AnswerTokenMemory _answers = new(RememberedAnswers);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate update in GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            updates.Add(update);
        }
        return updates.ToChatResponse();
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        VisionAssistant assistant = await host.GetAsync(cancellationToken).ConfigureAwait(false);
        PageRange? pages = options?.AdditionalProperties?.TryGetValue("pages", out object? p) == true && p is not null ? PageRange.Parse(p.ToString(), "pages") : null;
        var conversation = new List<AssistantMessage>();
        foreach (ChatMessage message in messages)
        {
            conversation.Add(await ToAssistantMessageAsync(assistant, message, options?.ConversationId, pages, cancellationToken).ConfigureAwait(false));
        }
        AssistantTask task = options?.AdditionalProperties?.TryGetValue("task", out object? t) == true && t is not null
            ? AssistantTasks.Parse(t.ToString()!)
            : AssistantTask.General;
        var request = new AssistantRequest { Sampling = Sampling(options) };
        string responseId = Guid.NewGuid().ToString("N");
        string modelId = assistant.Description;

        if (options?.ConversationId is { Length: > 0 } id && SessionPool.IdProblem(id) is { } problem)
        {
            throw new BadInputException($"ConversationId: {problem}");
        }
        using SessionLease lease = options?.ConversationId is { Length: > 0 } conversationId
            ? assistant.Sessions.Enter(PoolPrefix + conversationId)
            : assistant.Sessions.EnterTransient();
        await foreach (AssistantEvent e in assistant.ChatAsync(lease.Session, conversation, task, request, cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case TextDelta delta:
                    yield return new ChatResponseUpdate(ChatRole.Assistant, delta.Text) { ResponseId = responseId, ModelId = modelId, ConversationId = options?.ConversationId };
                    break;
                case AnswerCompleted done:
                    _answers.Remember(options?.ConversationId, done.Answer.Text, done.Answer.Tokens);
                    yield return new ChatResponseUpdate
                    {
                        Role = ChatRole.Assistant,
                        ResponseId = responseId,
                        ModelId = modelId,
                        ConversationId = options?.ConversationId,
                        FinishReason = done.Answer.FinishReason is FinishReason.Length or FinishReason.ContextFull ? ChatFinishReason.Length : ChatFinishReason.Stop,
                        Contents = [new UsageContent(Usage(done.Answer))],
                        AdditionalProperties = new() { [ImagesProperty] = done.Answer.Images },
                    };
                    break;
            }
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("webssl", null, host.Options.LlmPath)
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    private async Task<AssistantMessage> ToAssistantMessageAsync(VisionAssistant assistant, ChatMessage message, string? conversationId, PageRange? pages,
        CancellationToken cancellationToken)
    {
        Language.Prompting.ChatRole role = message.Role == ChatRole.System ? Language.Prompting.ChatRole.System
            : message.Role == ChatRole.Assistant ? Language.Prompting.ChatRole.Assistant
            : message.Role == ChatRole.User ? Language.Prompting.ChatRole.User
            : throw new BadInputException($"messages with role '{message.Role}' are not supported (system, user, assistant).");
        var images = new List<AssistantImage>();
        foreach (AIContent content in message.Contents)
        {
            switch (content)
            {
                case DataContent data when data.HasTopLevelMediaType("image"):
                    images.Add(new AssistantImage(data.Data, data.Name ?? $"image {images.Count + 1} ({data.MediaType})"));
                    break;
                case DataContent data when data.MediaType.Equals(PdfMediaType, StringComparison.OrdinalIgnoreCase):
                    images.AddRange(await assistant.LoadForQuestionAsync(data.Data, data.Name ?? $"document {images.Count + 1}.pdf", pages, cancellationToken).ConfigureAwait(false));
                    break;
                case DataContent data:
                    throw new BadInputException($"content of type '{data.MediaType}' is not supported; send images (image/*), PDFs ({PdfMediaType}) or text.");
                case UriContent uri when uri.Uri.IsFile:
                    byte[] bytes = await File.ReadAllBytesAsync(uri.Uri.LocalPath, cancellationToken).ConfigureAwait(false);
                    images.AddRange(await assistant.LoadForQuestionAsync(bytes, Path.GetFileName(uri.Uri.LocalPath), pages, cancellationToken).ConfigureAwait(false));
                    break;
                case UriContent uri:
                    throw new BadInputException($"image URI '{uri.Uri}' is not a local file; download it and send the bytes (DataContent).");
            }
        }
        string text = message.Text;
        IReadOnlyList<int>? tokens = role == Language.Prompting.ChatRole.Assistant ? _answers.Recall(conversationId, text) : null;
        return new AssistantMessage(role, text) { Images = images, Tokens = tokens };
    }

    private static SamplingOptions Sampling(ChatOptions? options)
    {
        SamplingOptions sampling = VisionAssistant.DefaultSampling;
        if (options is null)
        {
            return sampling;
        }
        return sampling with
        {
            Temperature = options.Temperature ?? sampling.Temperature,
            TopP = options.TopP ?? sampling.TopP,
            TopK = options.TopK ?? sampling.TopK,
            MaxTokens = options.MaxOutputTokens ?? sampling.MaxTokens,
            Stop = options.StopSequences?.ToList() ?? [],
            Seed = options.Seed is long seed ? unchecked((uint)seed) : null,
            IgnoreEndOfGeneration = options.AdditionalProperties?.TryGetValue("ignore_eos", out object? ignore) == true && ignore is true,
        };
    }

    private static UsageDetails Usage(AssistantAnswer answer) => new()
    {
        InputTokenCount = answer.Metrics.PromptTokens,
        OutputTokenCount = answer.Metrics.GeneratedTokens,
        TotalTokenCount = answer.Metrics.PromptTokens + answer.Metrics.GeneratedTokens,
        AdditionalCounts = new AdditionalPropertiesDictionary<long>
        {
            ["image_tokens"] = answer.Metrics.ImageTokens,
            ["cached_prompt_tokens"] = answer.Metrics.CachedPromptTokens,
        },
    };

    /// <summary>The sessions belong to the assistant's pool, which the assistant disposes.</summary>
    public void Dispose()
    {
    }
}
