using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using WebSsl.Multimodal.Assistant;

namespace WebSsl.Training.Evaluation;

/// <summary>One scored answer.</summary>
public sealed record SamplePrediction(
    string Id,
    string Category,
    string Question,
    IReadOnlyList<string> Answers,
    string Prediction,
    double Score,
    double Milliseconds,
    int GeneratedTokens,
    double FirstTokenMilliseconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

public sealed record CategoryScore(int Count, double Score);

public sealed record EvalThroughput(double Seconds, double SamplesPerSecond, double GeneratedTokensPerSecond, double MeanFirstTokenMilliseconds);

/// <summary>What an evaluation found: overall and per-category scores, throughput, and every prediction. Written as report.json and report.md.</summary>
public sealed record EvalReport(
    string Dataset,
    string Format,
    string Metric,
    string Model,
    string Encoder,
    string Llm,
    string Adapter,
    bool NoImage,
    string PromptSuffix,
    int Samples,
    int Errors,
    double Overall,
    IReadOnlyDictionary<string, CategoryScore> Categories,
    EvalThroughput Throughput,
    IReadOnlyList<SamplePrediction> Predictions)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    internal static EvalReport Create(EvalDataset dataset, EvalMetric metric, EvalOptions options, string suffix, VisionAssistant assistant,
        IReadOnlyList<SamplePrediction> predictions, TimeSpan elapsed)
    {
        var categories = predictions.GroupBy(p => p.Category, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new CategoryScore(g.Count(), g.Average(p => p.Score)), StringComparer.Ordinal);
        double seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        var answered = predictions.Where(p => p.Error is null).ToList();
        return new EvalReport(
            Path.GetFullPath(dataset.Path), dataset.Format.ToString().ToLowerInvariant(), AnswerScoring.Name(metric), assistant.Description,
            assistant.Encoder.Name, assistant.Llm.Name, assistant.Adapter.Directory ?? "", options.NoImage, suffix, predictions.Count, predictions.Count(p => p.Error is not null),
            predictions.Count == 0 ? 0 : predictions.Average(p => p.Score), categories,
            new EvalThroughput(Math.Round(elapsed.TotalSeconds, 2), Math.Round(predictions.Count / seconds, 3), Math.Round(predictions.Sum(p => p.GeneratedTokens) / seconds, 2),
                answered.Count == 0 ? 0 : Math.Round(answered.Average(p => p.FirstTokenMilliseconds), 1)),
            predictions);
    }

    /// <summary>Writes report.json and report.md into <paramref name="directory"/> (each written whole, then renamed).</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        WriteWhole(Path.Combine(directory, "report.json"), JsonSerializer.Serialize(this, Json));
        WriteWhole(Path.Combine(directory, "report.md"), ToMarkdown());
    }

    public string ToMarkdown(int sampleRows = 50)
    {
        var md = new StringBuilder();
        string Pct(double v) => (v * 100).ToString("F1", CultureInfo.InvariantCulture);
        md.AppendLine(CultureInfo.InvariantCulture, $"# Evaluation: {Path.GetFileName(Dataset)}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- model: {Model}{(NoImage ? " — **images withheld (blind baseline)**" : "")}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- data: `{Dataset}` ({Format}), {Samples} questions, {Errors} could not be asked");
        md.AppendLine(CultureInfo.InvariantCulture, $"- metric: {Metric}; prompt suffix: {(PromptSuffix.Length == 0 ? "none" : $"`{PromptSuffix.Trim()}`")}");
        md.AppendLine(CultureInfo.InvariantCulture,
            $"- throughput: {Throughput.Seconds:F1} s, {Throughput.SamplesPerSecond:F2} questions/s, {Throughput.GeneratedTokensPerSecond:F1} generated tokens/s, first token {Throughput.MeanFirstTokenMilliseconds:F0} ms on average");
        md.AppendLine();
        md.AppendLine("| category | questions | score (%) |");
        md.AppendLine("|---|---:|---:|");
        foreach (var (category, score) in Categories)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {category} | {score.Count} | {Pct(score.Score)} |");
        }
        md.AppendLine(CultureInfo.InvariantCulture, $"| **overall** | **{Samples}** | **{Pct(Overall)}** |");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Predictions{(Predictions.Count > sampleRows ? $" (first {sampleRows} of {Predictions.Count}; all in report.json)" : "")}");
        md.AppendLine();
        md.AppendLine("| id | category | question | answer | prediction | score |");
        md.AppendLine("|---|---|---|---|---|---:|");
        foreach (SamplePrediction p in Predictions.Take(sampleRows))
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {Cell(p.Id)} | {Cell(p.Category)} | {Cell(p.Question)} | {Cell(string.Join(" / ", p.Answers.Distinct().Take(3)))} | {Cell(p.Error is null ? p.Prediction : $"(error: {p.Error})")} | {p.Score.ToString("F2", CultureInfo.InvariantCulture)} |");
        }
        return md.ToString();
    }

    private static string Cell(string text)
    {
        string flat = text.Replace('\n', ' ').Replace("|", "\\|", StringComparison.Ordinal);
        return flat.Length > 80 ? flat[..79] + "…" : flat;
    }

    private static void WriteWhole(string path, string text)
    {
        File.WriteAllText(path + ".partial", text);
        File.Move(path + ".partial", path, overwrite: true);
    }
}
