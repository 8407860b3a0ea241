using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebSsl.Assistant.SemanticKernel;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Assistant.Server.Hosting;
using WebSsl.Assistant.Server.Telemetry;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.Server.OpenAi;

/// <summary>
/// The OpenAI-compatible surface: POST /v1/chat/completions (JSON, or server-sent events with "stream": true) and
/// GET /v1/models, so OpenAI SDKs and UIs such as Open WebUI can use this server as they are. Errors use OpenAI's
/// error body; a refusal found before the first token is an HTTP status, one found later an error event.
/// </summary>
public static class OpenAiEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapOpenAiEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (HttpContext context) =>
        {
            string model = ModelId(context.RequestServices);
            return Results.Json(new
            {
                @object = "list",
                data = new[] { new { id = model, @object = "model", created = Created, owned_by = "webssl" } },
            });
        });
        app.MapPost("/v1/chat/completions", CompleteAsync).DisableAntiforgery();
    }

    private static readonly long Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static string ModelId(IServiceProvider services)
    {
        ServerOptions server = services.GetRequiredService<IOptions<ServerOptions>>().Value;
        string adapter = services.GetRequiredService<AssistantHost>().Options.AdapterPath;
        return server.ModelName ?? $"webssl-{Path.GetFileName(Path.TrimEndingDirectorySeparator(adapter))}";
    }

    private static async Task CompleteAsync(HttpContext context, ModelLoader loader, WebSslChatClient client, IImageStore images,
        IOptions<ServerOptions> serverOptions, IOptions<WebSslAssistantOptions> assistantOptions, ServerMetrics metrics, ILogger<OpenAiRequest> logger,
        CancellationToken cancellationToken)
    {
        AssistantOptions assistant = assistantOptions.Value.Assistant;
        long bodyLimit = serverOptions.Value.RequestBodyLimit(assistant.ImageLimits);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = bodyLimit;
        }
        void Failed(Exception e, Failures.Failure failure)
        {
            metrics.Request("openai", failure.Code);
            if (failure.IsInternal)
            {
                logger.LogError(e, "An OpenAI API request failed (correlation id {CorrelationId})", failure.CorrelationId);
            }
        }
        OpenAiRequest request;
        IAsyncEnumerator<ChatResponseUpdate>? updates = null;
        bool hasFirst;
        try
        {
            (VisionAssistant? loaded, string code, string message) = loader.TryGet();
            if (loaded is null)
            {
                throw new RequestRefusedException(ProblemKind.Busy, code, message);
            }
            using JsonDocument body = await ReadJsonAsync(context.Request, bodyLimit, cancellationToken);
            request = OpenAiRequest.Parse(body.RootElement, images);
            updates = client.GetStreamingResponseAsync(request.Messages, request.Options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            // The first update comes after the images are checked and the prompt admitted, so most refusals are still an HTTP status here.
            hasFirst = await updates.MoveNextAsync();
        }
        catch (Exception e)
        {
            if (updates is not null)
            {
                await updates.DisposeAsync();
            }
            Failures.Failure failure = Failures.Describe(e);
            Failed(e, failure);
            await WriteErrorAsync(context.Response, failure);
            return;
        }

        await using (updates)
        {
            string id = $"chatcmpl-{Guid.NewGuid():N}";
            string model = ModelId(context.RequestServices);
            long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (request.Stream)
            {
                await StreamAsync(context, updates, hasFirst, request, id, model, created, Failed, metrics, cancellationToken);
                return;
            }
            var collected = new List<ChatResponseUpdate>();
            try
            {
                for (bool more = hasFirst; more; more = await updates.MoveNextAsync())
                {
                    collected.Add(updates.Current);
                }
            }
            catch (Exception e)
            {
                Failures.Failure failure = Failures.Describe(e);
                Failed(e, failure);
                await WriteErrorAsync(context.Response, failure);
                return;
            }
            ChatResponse response = collected.ToChatResponse();
            metrics.Request("openai", "ok");
            await context.Response.WriteAsJsonAsync(new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = response.Text },
                    ["finish_reason"] = FinishReason(response.FinishReason),
                }),
                ["usage"] = Usage(response.Usage, collected.Select(ImagesOf).LastOrDefault(i => i is not null)),
            }, cancellationToken);
        }
    }

    private static async Task StreamAsync(HttpContext context, IAsyncEnumerator<ChatResponseUpdate> updates, bool hasFirst, OpenAiRequest request,
        string id, string model, long created, Action<Exception, Failures.Failure> failed, ServerMetrics metrics, CancellationToken cancellationToken)
    {
        HttpResponse response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        JsonObject Chunk(JsonObject delta, string? finish) => new()
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
        };
        await SendAsync(response, Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null), cancellationToken);
        UsageDetails? usage = null;
        IReadOnlyList<ImageReport>? images = null;
        try
        {
            for (bool more = hasFirst; more; more = await updates.MoveNextAsync())
            {
                ChatResponseUpdate update = updates.Current;
                if (update.Text.Length > 0)
                {
                    await SendAsync(response, Chunk(new JsonObject { ["content"] = update.Text }, null), cancellationToken);
                }
                usage = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details ?? usage;
                images = ImagesOf(update) ?? images;
                if (update.FinishReason is { } finish)
                {
                    await SendAsync(response, Chunk(new JsonObject(), FinishReason(finish)), cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            metrics.Request("openai", "cancelled");
            return;
        }
        catch (Exception e)
        {
            Failures.Failure failure = Failures.Describe(e);
            failed(e, failure);
            await SendAsync(response, ErrorBody(failure), CancellationToken.None);
            await response.WriteAsync("data: [DONE]\n\n", CancellationToken.None);
            return;
        }
        if (request.IncludeUsage)
        {
            JsonObject last = Chunk(new JsonObject(), null);
            last["choices"] = new JsonArray();
            last["usage"] = Usage(usage, images);
            await SendAsync(response, last, cancellationToken);
        }
        metrics.Request("openai", "ok");
        await response.WriteAsync("data: [DONE]\n\n", cancellationToken);
    }

    private static async Task SendAsync(HttpResponse response, JsonNode data, CancellationToken cancellationToken)
    {
        await response.WriteAsync($"data: {data.ToJsonString(Json)}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static async Task<JsonDocument> ReadJsonAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            throw new RequestRefusedException(ProblemKind.Unsupported, "bad-request", "send the request as JSON (Content-Type: application/json).");
        }
        try
        {
            return await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        }
        catch (JsonException e)
        {
            throw new RequestRefusedException(ProblemKind.BadInput, "bad-request", $"the body is not valid JSON: {e.Message}");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new RequestRefusedException(ProblemKind.TooLarge, "too-large",
                $"the request body is over this server's limit of {limit:N0} bytes (Server:MaxRequestBytes); upload large images with POST /api/images and send their ids.");
        }
    }

    private static string FinishReason(ChatFinishReason? reason) => reason == ChatFinishReason.Length ? "length" : "stop";

    /// <summary>
    /// OpenAI's usage object, with cached prompt tokens where OpenAI reports them and, as an extension, how each image
    /// was read ("images": size, grid, views, resolution, tokens), so that no client is left guessing.
    /// </summary>
    private static JsonObject Usage(UsageDetails? usage, IReadOnlyList<ImageReport>? images) => new()
    {
        ["prompt_tokens"] = usage?.InputTokenCount ?? 0,
        ["completion_tokens"] = usage?.OutputTokenCount ?? 0,
        ["total_tokens"] = usage?.TotalTokenCount ?? 0,
        ["prompt_tokens_details"] = new JsonObject
        {
            ["cached_tokens"] = usage?.AdditionalCounts?.GetValueOrDefault("cached_prompt_tokens") ?? 0,
            ["image_tokens"] = usage?.AdditionalCounts?.GetValueOrDefault("image_tokens") ?? 0,
        },
        ["images"] = new JsonArray((images ?? []).Select(i => (JsonNode)new JsonObject
        {
            ["name"] = i.Name,
            ["width"] = i.OriginalWidth,
            ["height"] = i.OriginalHeight,
            ["grid"] = i.Grid,
            ["views"] = i.Views,
            ["resolution"] = i.Resolution,
            ["tokens"] = i.Tokens,
            ["cached"] = i.FromCache,
        }).ToArray()),
    };

    private static IReadOnlyList<ImageReport>? ImagesOf(ChatResponseUpdate update) =>
        update.AdditionalProperties?.TryGetValue(WebSslChatClient.ImagesProperty, out object? images) == true ? images as IReadOnlyList<ImageReport> : null;

    private static JsonObject ErrorBody(Failures.Failure failure) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = failure.Message,
            ["type"] = failure.Status >= 500 ? "server_error" : "invalid_request_error",
            ["code"] = failure.Code,
        },
    };

    private static async Task WriteErrorAsync(HttpResponse response, Failures.Failure failure)
    {
        response.StatusCode = failure.Status == 499 ? StatusCodes.Status400BadRequest : failure.Status;
        if (failure.Code == "busy")
        {
            response.Headers.RetryAfter = "1";
        }
        await response.WriteAsJsonAsync(ErrorBody(failure), CancellationToken.None);
    }
}
