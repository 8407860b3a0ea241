using System.Text.Json;
using WebSsl.Language.Prompting;
using WebSsl.Training.Data;

namespace WebSsl.Training.Evaluation;

/// <summary>One question to score: its images, the accepted answers and a category for per-category scores.</summary>
public sealed record EvalSample(string Id, string Question, IReadOnlyList<string> Answers, string Category, IReadOnlyList<ImageSource> Images);

/// <summary>The file layouts <see cref="EvalDataset.Read"/> recognizes.</summary>
public enum EvalFormat
{
    /// <summary>Our LLaVA JSON / JSONL or messages JSONL (webssl synth writes it, with a "category" per record).</summary>
    Llava,

    /// <summary>ChartQA's test_human.json / test_augmented.json: [{"imgname", "query", "label"}], images in png/.</summary>
    ChartQa,

    /// <summary>DocVQA's val_v1.0.json: {"data": [{"questionId", "question", "image", "answers", "question_types"}]}.</summary>
    DocVqa,

    /// <summary>TextVQA's TextVQA_0.5.1_val.json: {"data": [{"question_id", "question", "image_id", "answers"}]}, images {image_id}.jpg in train_images/.</summary>
    TextVqa,

    /// <summary>OCRBench.json: [{"id", "image_path", "question", "answers", "type"}], images under OCRBench_Images/.</summary>
    OcrBench,
}

/// <summary>An evaluation set read from any supported layout, with the metric and prompt its benchmark uses.</summary>
public sealed record EvalDataset(string Path, EvalFormat Format, IReadOnlyList<EvalSample> Samples, IReadOnlyList<DatasetProblem> Problems)
{
    /// <summary>LLaVA-1.5's evaluation prompt for short-answer benchmarks.</summary>
    public const string ShortAnswerPrompt = "\nAnswer the question using a single word or phrase.";

    public EvalMetric DefaultMetric => Format switch
    {
        EvalFormat.DocVqa => EvalMetric.Anls,
        EvalFormat.TextVqa => EvalMetric.VqaAccuracy,
        EvalFormat.OcrBench => EvalMetric.Contains,
        _ => EvalMetric.RelaxedAccuracy,
    };

    /// <summary>Appended to each question: the short-answer prompt for the public VQA sets; nothing for our own data (asked as trained).</summary>
    public string DefaultPromptSuffix => Format is EvalFormat.ChartQa or EvalFormat.DocVqa or EvalFormat.TextVqa ? ShortAnswerPrompt : "";

    /// <summary>Reads <paramref name="path"/>, recognizing its layout from its content; images resolve against <paramref name="imageDirectory"/>, or the benchmark's usual folder next to the file.</summary>
    public static EvalDataset Read(string path, string? imageDirectory = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: evaluation file not found.", path);
        }
        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        string Images(string usual) => imageDirectory ?? (Directory.Exists(System.IO.Path.Combine(folder, usual)) ? System.IO.Path.Combine(folder, usual) : folder);
        string text = File.ReadAllText(path).TrimStart();
        if (text.StartsWith('['))
        {
            using JsonDocument document = Parse(path, text);
            JsonElement first = document.RootElement.EnumerateArray().FirstOrDefault();
            if (first.ValueKind == JsonValueKind.Object && Has(first, "imgname", "query", "label"))
            {
                string category = System.IO.Path.GetFileNameWithoutExtension(path).Contains("human", StringComparison.OrdinalIgnoreCase) ? "human"
                    : System.IO.Path.GetFileNameWithoutExtension(path).Contains("augmented", StringComparison.OrdinalIgnoreCase) ? "augmented" : "chartqa";
                return Public(path, EvalFormat.ChartQa, document.RootElement, (e, i) => new EvalSample(
                    $"chartqa-{i}", Str(e, "query"), [Str(e, "label")], category, [ImageAt(Images("png"), Str(e, "imgname"))]));
            }
            if (first.ValueKind == JsonValueKind.Object && Has(first, "image_path", "question", "answers"))
            {
                return Public(path, EvalFormat.OcrBench, document.RootElement, (e, i) => new EvalSample(
                    e.TryGetProperty("id", out JsonElement id) ? id.ToString() : $"ocrbench-{i}", Str(e, "question"), Strings(e.GetProperty("answers")),
                    e.TryGetProperty("type", out JsonElement type) ? type.GetString() ?? "ocrbench" : "ocrbench", [ImageAt(Images("OCRBench_Images"), Str(e, "image_path"))]));
            }
        }
        else if (text.StartsWith('{') && TryParse(text) is { } document)
        {
            // One JSON object (not JSON lines): the DocVQA / TextVQA layout.
            using JsonDocument owned = document;
            if (document.RootElement.TryGetProperty("data", out JsonElement data) && data.ValueKind == JsonValueKind.Array)
            {
                JsonElement first = data.EnumerateArray().FirstOrDefault();
                if (first.ValueKind == JsonValueKind.Object && Has(first, "questionId", "question", "image"))
                {
                    return Public(path, EvalFormat.DocVqa, data, (e, i) => new EvalSample(
                        e.GetProperty("questionId").ToString(), Str(e, "question"), e.TryGetProperty("answers", out JsonElement a) ? Strings(a) : [],
                        e.TryGetProperty("question_types", out JsonElement types) && types.GetArrayLength() > 0 ? types[0].GetString() ?? "docvqa" : "docvqa",
                        [ImageAt(Images(""), Str(e, "image"))]));
                }
                if (first.ValueKind == JsonValueKind.Object && Has(first, "question_id", "question", "image_id"))
                {
                    return Public(path, EvalFormat.TextVqa, data, (e, i) => new EvalSample(
                        e.GetProperty("question_id").ToString(), Str(e, "question"), e.TryGetProperty("answers", out JsonElement a) ? Strings(a) : [],
                        "textvqa", [ImageAt(Images("train_images"), Str(e, "image_id") + ".jpg")]));
                }
            }
        }
        var (records, problems) = VqaDataset.Read(path, imageDirectory);
        var samples = new List<EvalSample>();
        foreach (VqaRecord record in records)
        {
            var pairs = Enumerable.Range(0, Math.Max(0, record.Turns.Count - 1))
                .Where(t => record.Turns[t].Role == ChatRole.User && record.Turns[t + 1].Role == ChatRole.Assistant).ToList();
            for (int p = 0; p < pairs.Count; p++)
            {
                string question = record.Turns[pairs[p]].Text.Replace(ChatTurn.ImageMarker, "", StringComparison.Ordinal).Trim();
                samples.Add(new EvalSample(pairs.Count == 1 ? record.Id : $"{record.Id}#{p + 1}", question, [record.Turns[pairs[p] + 1].Text.Trim()],
                    record.Category ?? "all", record.Images));
            }
        }
        return new EvalDataset(path, EvalFormat.Llava, samples, problems);
    }

    private static EvalDataset Public(string path, EvalFormat format, JsonElement items, Func<JsonElement, int, EvalSample> read)
    {
        var samples = new List<EvalSample>();
        var problems = new List<DatasetProblem>();
        int index = 0;
        foreach (JsonElement item in items.EnumerateArray())
        {
            index++;
            try
            {
                samples.Add(read(item, index));
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                problems.Add(new DatasetProblem(path, index, null, $"item {index} is not a {format} record: {e.Message}"));
            }
        }
        return new EvalDataset(path, format, samples, problems);
    }

    private static JsonDocument Parse(string path, string text)
    {
        try
        {
            return JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new BadInputException($"{path}: not valid JSON ({e.Message}).", "bad-data", e);
        }
    }

    private static JsonDocument? TryParse(string text)
    {
        try
        {
            return JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool Has(JsonElement e, params string[] names) => names.All(n => e.TryGetProperty(n, out _));

    private static string Str(JsonElement e, string name) => e.GetProperty(name) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : e.GetProperty(name).ToString();

    private static string[] Strings(JsonElement e) => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Select(a => a.ToString()).ToArray() : [e.ToString()];

    private static ImageSource ImageAt(string folder, string name) => new(System.IO.Path.Combine(folder, name), null, name);
}
