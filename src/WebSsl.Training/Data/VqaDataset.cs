using System.Text.Json;
using WebSsl.Language.Prompting;

namespace WebSsl.Training.Data;

/// <summary>Where a record's image comes from: a file (resolved against the image folder) or the bytes of a data: URI.</summary>
public sealed record ImageSource(string? Path, byte[]? Bytes, string Label)
{
    public byte[] ReadBytes() => Bytes ?? File.ReadAllBytes(Path!);
}

/// <summary>
/// One training example in the project's own form, whatever file it came from: its images and its turns. User turns
/// contain one <c>&lt;image&gt;</c> marker per image, in order (added at the start when the source had none).
/// </summary>
public sealed record VqaRecord(string Id, int Line, IReadOnlyList<ImageSource> Images, IReadOnlyList<(ChatRole Role, string Text)> Turns)
{
    public int ImageMarkers => Turns.Where(t => t.Role == ChatRole.User).Sum(t => CountMarkers(t.Text));

    /// <summary>The record's "category" field when it has one (webssl synth tags every question), for per-category scores.</summary>
    public string? Category { get; init; }

    public static int CountMarkers(string text) => (text.Length - text.Replace(ChatTurn.ImageMarker, "", StringComparison.Ordinal).Length) / ChatTurn.ImageMarker.Length;
}

/// <summary>A record that could not be read at all (malformed JSON, unknown roles...).</summary>
public sealed record DatasetProblem(string File, int Line, string? Id, string Problem)
{
    public override string ToString() => Id is null ? $"{File}:{Line}: {Problem}" : $"{File}:{Line} ({Id}): {Problem}";
}

/// <summary>
/// Reads LLaVA JSON (an array) or JSONL (<c>id</c>, <c>image</c> as a string or list, <c>conversations</c> with
/// <c>from: human|gpt|system</c> and <c>&lt;image&gt;</c> placeholders) and messages JSONL (OpenAI-style <c>messages</c>
/// whose content may hold <c>image_url</c> parts, or an <c>images</c> list). A malformed record becomes a
/// <see cref="DatasetProblem"/> with its line; the others are read.
/// </summary>
public static class VqaDataset
{
    public static (List<VqaRecord> Records, List<DatasetProblem> Problems) Read(string path, string? imageDirectory)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: dataset file not found.", path);
        }
        imageDirectory ??= Path.GetDirectoryName(Path.GetFullPath(path))!;
        var records = new List<VqaRecord>();
        var problems = new List<DatasetProblem>();
        string text = File.ReadAllText(path);
        if (text.TrimStart().StartsWith('['))
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true });
                int index = 0;
                foreach (JsonElement element in document.RootElement.EnumerateArray())
                {
                    Add(element, ++index);
                }
            }
            catch (JsonException e)
            {
                problems.Add(new DatasetProblem(path, (int)(e.LineNumber ?? 0) + 1, null, $"the JSON array cannot be parsed: {e.Message}"));
            }
            return (records, problems);
        }
        int line = 0;
        foreach (string raw in File.ReadLines(path))
        {
            line++;
            if (raw.Trim().Length == 0)
            {
                continue;
            }
            try
            {
                using JsonDocument document = JsonDocument.Parse(raw);
                Add(document.RootElement, line);
            }
            catch (JsonException e)
            {
                problems.Add(new DatasetProblem(path, line, null, $"not valid JSON: {e.Message}"));
            }
        }
        return (records, problems);

        void Add(JsonElement element, int line)
        {
            string? id = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("id", out JsonElement i) ? i.ToString() : null;
            try
            {
                VqaRecord record = element.TryGetProperty("messages", out _) ? FromMessages(element, line, id, imageDirectory) : FromLlava(element, line, id, imageDirectory);
                records.Add(element.TryGetProperty("category", out JsonElement category) && category.ValueKind == JsonValueKind.String
                    ? record with { Category = category.GetString() }
                    : record);
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or KeyNotFoundException)
            {
                problems.Add(new DatasetProblem(path, line, id, e.Message));
            }
        }
    }

    private static VqaRecord FromLlava(JsonElement element, int line, string? id, string imageDirectory)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("conversations", out JsonElement conversations)
            || conversations.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("a LLaVA record needs a \"conversations\" array (or a messages record a \"messages\" array).");
        }
        var images = new List<ImageSource>();
        if (element.TryGetProperty("image", out JsonElement image))
        {
            foreach (string name in image.ValueKind == JsonValueKind.Array ? image.EnumerateArray().Select(e => e.GetString()!) : [image.GetString()!])
            {
                images.Add(Resolve(name, imageDirectory));
            }
        }
        var turns = new List<(ChatRole, string)>();
        foreach (JsonElement turn in conversations.EnumerateArray())
        {
            string from = turn.TryGetProperty("from", out JsonElement f) ? f.GetString() ?? "" : "";
            string value = turn.TryGetProperty("value", out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new FormatException("a conversation turn has no \"value\" string.");
            turns.Add((from switch
            {
                "human" or "user" => ChatRole.User,
                "gpt" or "assistant" => ChatRole.Assistant,
                "system" => ChatRole.System,
                _ => throw new FormatException($"unknown speaker \"{from}\" (expected human, gpt or system)."),
            }, value));
        }
        return new VqaRecord(id ?? $"line-{line}", line, images, turns);
    }

    private static VqaRecord FromMessages(JsonElement element, int line, string? id, string imageDirectory)
    {
        var images = new List<ImageSource>();
        var turns = new List<(ChatRole, string)>();
        int listed = 0;
        string[] imageList = element.TryGetProperty("images", out JsonElement list) ? list.EnumerateArray().Select(e => e.GetString()!).ToArray() : [];
        foreach (JsonElement message in element.GetProperty("messages").EnumerateArray())
        {
            string roleName = message.TryGetProperty("role", out JsonElement r) ? r.GetString() ?? "" : "";
            ChatRole role = roleName switch
            {
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                "system" => ChatRole.System,
                _ => throw new FormatException($"unknown role \"{roleName}\" (expected user, assistant or system)."),
            };
            JsonElement content = message.GetProperty("content");
            if (content.ValueKind == JsonValueKind.String)
            {
                string text = content.GetString()!;
                turns.Add((role, text));
                continue;
            }
            var builder = new System.Text.StringBuilder();
            foreach (JsonElement part in content.EnumerateArray())
            {
                string type = part.TryGetProperty("type", out JsonElement t) ? t.GetString() ?? "" : "";
                switch (type)
                {
                    case "text":
                        builder.Append(part.GetProperty("text").GetString());
                        break;
                    case "image_url":
                        JsonElement url = part.GetProperty("image_url");
                        images.Add(Resolve(url.ValueKind == JsonValueKind.String ? url.GetString()! : url.GetProperty("url").GetString()!, imageDirectory));
                        builder.Append(ChatTurn.ImageMarker).Append('\n');
                        break;
                    case "image":
                        // {"type": "image"} placeholders refer to the record's "images" list, in order.
                        images.Add(Resolve(listed < imageList.Length ? imageList[listed++] : throw new FormatException("more image parts than entries in \"images\"."), imageDirectory));
                        builder.Append(ChatTurn.ImageMarker).Append('\n');
                        break;
                    default:
                        throw new FormatException($"unknown content part type \"{type}\" (expected text, image_url or image).");
                }
            }
            turns.Add((role, builder.ToString().TrimEnd('\n')));
        }
        // Images listed but not placed by parts go first in the first user turn.
        if (listed < imageList.Length)
        {
            int first = turns.FindIndex(t => t.Item1 == ChatRole.User);
            if (first < 0)
            {
                throw new FormatException("the record has images but no user message.");
            }
            string prefix = string.Concat(Enumerable.Repeat(ChatTurn.ImageMarker + "\n", imageList.Length - listed));
            var rest = imageList.Skip(listed).Select(name => Resolve(name, imageDirectory)).ToList();
            images.InsertRange(0, rest);
            turns[first] = (ChatRole.User, prefix + turns[first].Item2);
        }
        return new VqaRecord(id ?? $"line-{line}", line, images, turns);
    }

    private static ImageSource Resolve(string reference, string imageDirectory)
    {
        if (reference.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            int comma = reference.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || !reference[..comma].EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException("an image data URI must be base64 (data:image/...;base64,...).");
            }
            return new ImageSource(null, Convert.FromBase64String(reference[(comma + 1)..]), "data URI");
        }
        if (reference.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            return new ImageSource(new Uri(reference).LocalPath, null, reference);
        }
        if (reference.Contains("://", StringComparison.Ordinal))
        {
            throw new FormatException($"image \"{reference}\" is a remote URL; download the images and give a path.");
        }
        return new ImageSource(Path.GetFullPath(Path.Combine(imageDirectory, reference)), null, reference);
    }
}
