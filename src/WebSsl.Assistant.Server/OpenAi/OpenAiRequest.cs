using System.Text.Json;
using Microsoft.Extensions.AI;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;
using WebSsl.Vision.Images;

namespace WebSsl.Assistant.Server.OpenAi;

/// <summary>
/// An OpenAI chat completions request read into Microsoft.Extensions.AI messages and options. Images may be data URIs
/// (data:image/png;base64,...) or ids of images uploaded with POST /api/images (the bare id or /api/images/{id});
/// http(s) URLs are refused: the server never fetches from addresses a client names. PDFs come as OpenAI's file parts
/// ({"type":"file","file":{"filename":..,"file_data":"data:application/pdf;base64,.."}}) and are read as their pages.
/// Extensions: "task" (general, ocr, chart, document), "pages" (the pages of each PDF to read: "3" or "2-5"; default all), "conversation_id" (keeps the engine session between calls; 1 to
/// 128 characters of A-Z a-z 0-9 . _ : -; one request at a time per id, a second is answered 409 at once),
/// "ignore_eos" (as llama.cpp's server).
/// </summary>
public sealed record OpenAiRequest(string Model, List<ChatMessage> Messages, ChatOptions Options, bool Stream, bool IncludeUsage)
{
    public static OpenAiRequest Parse(JsonElement root, IImageStore images)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Bad("the body must be a JSON object with 'messages'.");
        }
        if (!root.TryGetProperty("messages", out JsonElement messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw Bad("'messages' must be a non-empty array.");
        }
        if (Number(root, "n") is { } n && n != 1)
        {
            throw Bad($"n = {n}: this server returns one choice per request.");
        }
        var options = new ChatOptions { AdditionalProperties = [] };
        int? maxTokens = (int?)(Number(root, "max_completion_tokens") ?? Number(root, "max_tokens"));
        options.MaxOutputTokens = maxTokens;
        options.Temperature = (float?)Number(root, "temperature") ?? 0f; // ranges are checked by the assistant, as for every surface
        options.TopP = (float?)Number(root, "top_p");
        options.Seed = (long?)Number(root, "seed");
        if (root.TryGetProperty("stop", out JsonElement stop))
        {
            options.StopSequences = stop.ValueKind switch
            {
                JsonValueKind.String => [stop.GetString()!],
                JsonValueKind.Array => stop.EnumerateArray().Select(s => s.ValueKind == JsonValueKind.String && s.GetString() is { Length: > 0 } text
                    ? text
                    : throw Bad("'stop' entries must be non-empty strings.")).ToList(),
                JsonValueKind.Null => null,
                _ => throw Bad("'stop' must be a string or an array of strings."),
            };
        }
        if (Text(root, "task") is { } task)
        {
            options.AdditionalProperties["task"] = AssistantTasks.Parse(task).ToString();
        }
        if (root.TryGetProperty("conversation_id", out JsonElement conversation) && conversation.ValueKind is not JsonValueKind.Null)
        {
            string id = conversation.ValueKind == JsonValueKind.String ? conversation.GetString()! : throw Bad("'conversation_id' must be a string.");
            options.ConversationId = SessionPool.IdProblem(id) is { } problem ? throw Bad($"conversation_id: {problem}") : id;
        }
        if (Text(root, "pages") is { } pages)
        {
            options.AdditionalProperties["pages"] = PageRange.Parse(pages, "pages")!.Value.ToString();
        }
        if (root.TryGetProperty("ignore_eos", out JsonElement ignoreEos) && ignoreEos.ValueKind == JsonValueKind.True)
        {
            options.AdditionalProperties["ignore_eos"] = true;
        }
        bool stream = root.TryGetProperty("stream", out JsonElement s) && s.ValueKind == JsonValueKind.True;
        bool includeUsage = root.TryGetProperty("stream_options", out JsonElement so) && so.ValueKind == JsonValueKind.Object
            && so.TryGetProperty("include_usage", out JsonElement iu) && iu.ValueKind == JsonValueKind.True;
        var list = messages.EnumerateArray().Select((m, i) => Message(m, i, images)).ToList();
        return new OpenAiRequest(Text(root, "model") ?? "", list, options, stream, includeUsage);
    }

    private static ChatMessage Message(JsonElement message, int index, IImageStore images)
    {
        string where = $"messages[{index}]";
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw Bad($"{where} must be an object with 'role' and 'content'.");
        }
        ChatRole role = Text(message, "role") switch
        {
            "system" or "developer" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            var other => throw Bad($"{where}.role is '{other}'; use system, user or assistant."),
        };
        var contents = new List<AIContent>();
        if (!message.TryGetProperty("content", out JsonElement content) || content.ValueKind == JsonValueKind.Null)
        {
            contents.Add(new TextContent(""));
        }
        else if (content.ValueKind == JsonValueKind.String)
        {
            contents.Add(new TextContent(content.GetString()));
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            int p = 0;
            foreach (JsonElement part in content.EnumerateArray())
            {
                string partWhere = $"{where}.content[{p++}]";
                switch (Text(part, "type"))
                {
                    case "text":
                        contents.Add(new TextContent(Text(part, "text") ?? throw Bad($"{partWhere} has no 'text'.")));
                        break;
                    case "image_url":
                        string url = part.TryGetProperty("image_url", out JsonElement image)
                            ? image.ValueKind == JsonValueKind.String ? image.GetString()! : Text(image, "url") ?? throw Bad($"{partWhere}.image_url has no 'url'.")
                            : throw Bad($"{partWhere} has no 'image_url'.");
                        contents.Add(Image(url, partWhere, images));
                        break;
                    case "file":
                        contents.Add(FilePart(part, partWhere));
                        break;
                    case var type:
                        throw Bad($"{partWhere} has type '{type}'; this server reads 'text', 'image_url' and 'file' parts.");
                }
            }
        }
        else
        {
            throw Bad($"{where}.content must be a string or an array of parts.");
        }
        return new ChatMessage(role, contents);
    }

    private static DataContent Image(string url, string where, IImageStore images)
    {
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            (string mediaType, byte[] bytes) = DataUri(url, where, "data:image/png;base64,...");
            if (!mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase) || mediaType.Contains('*'))
            {
                throw Bad($"{where}: the data URI's media type is '{mediaType}'; send an image (image/png, image/jpeg, ...).");
            }
            return new DataContent(bytes, mediaType) { Name = where };
        }
        if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw Bad($"{where}: image URLs are not fetched by this server; send the image as a data URI or upload it to /api/images and send its id.");
        }
        string id = url.StartsWith("/api/images/", StringComparison.Ordinal) ? url["/api/images/".Length..] : url;
        if (!images.TryGet(id, out AssistantImage stored))
        {
            throw new RequestRefusedException(ProblemKind.NotFound, "image-not-found", $"{where}: image '{id}' is not stored here; upload it with POST /api/images or send a data URI.");
        }
        return new DataContent(stored.Bytes, ImageLoader.Inspect(stored.Bytes.Span, id).MimeType) { Name = id };
    }

    /// <summary>A file part: a PDF (or an image) sent inline as a data URI; file ids name OpenAI's file store, which this server does not have.</summary>
    private static DataContent FilePart(JsonElement part, string where)
    {
        if (!part.TryGetProperty("file", out JsonElement file) || file.ValueKind != JsonValueKind.Object)
        {
            throw Bad($"{where} has no 'file' object.");
        }
        if (Text(file, "file_data") is not { } data)
        {
            throw Bad(file.TryGetProperty("file_id", out _)
                ? $"{where}.file: file ids are not stored by this server; send the file inline as 'file_data' (data:application/pdf;base64,...)."
                : $"{where}.file has no 'file_data'.");
        }
        if (!data.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            throw Bad($"{where}.file.file_data must be a data URI (data:application/pdf;base64,...).");
        }
        (string mediaType, byte[] bytes) = DataUri(data, $"{where}.file", "data:application/pdf;base64,...");
        bool pdf = mediaType.Equals("application/pdf", StringComparison.OrdinalIgnoreCase);
        if (!pdf && !(mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase) && !mediaType.Contains('*')))
        {
            throw Bad($"{where}.file: the media type is '{mediaType}'; send a PDF (application/pdf) or an image.");
        }
        string name = Text(file, "filename") is { Length: > 0 } given ? Path.GetFileName(given) : where;
        return new DataContent(bytes, pdf ? "application/pdf" : mediaType) { Name = name };
    }

    private static (string MediaType, byte[] Bytes) DataUri(string url, string where, string example)
    {
        int comma = url.IndexOf(',');
        string header = comma < 0 ? "" : url[5..comma];
        if (comma < 0 || !header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
        {
            throw Bad($"{where}: a data URI must be base64 ({example}).");
        }
        try
        {
            return (header[..^";base64".Length], Convert.FromBase64String(url[(comma + 1)..]));
        }
        catch (FormatException)
        {
            throw Bad($"{where}: the data URI's base64 is malformed.");
        }
    }

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) ? v.ValueKind switch
        {
            JsonValueKind.Number => v.GetDouble(),
            JsonValueKind.Null => null,
            _ => throw Bad($"'{name}' must be a number."),
        } : null;

    private static RequestRefusedException Bad(string message) => new(ProblemKind.BadInput, "bad-request", message);
}
