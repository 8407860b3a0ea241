using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WebSsl.Assistant.SemanticKernel;
using WebSsl.Language.Engine;
using WebSsl.Multimodal.Assistant;
using WebSsl.Training.Evaluation;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl eval</c>: an adapter's score on a VQA set (ours, ChartQA, DocVQA, TextVQA, OCRBench), overall and per category.</summary>
internal static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var data = new Option<FileInfo>("--data") { Description = "Evaluation file: our LLaVA JSON/JSONL, or ChartQA, DocVQA, TextVQA, OCRBench JSON as published.", Required = true };
        var images = new Option<DirectoryInfo?>("--images") { Description = "Image folder (default: the benchmark's usual folder next to the file)." };
        var encoder = new Option<DirectoryInfo>("--encoder") { Description = "Web-SSL checkpoint folder.", Required = true };
        var llm = new Option<FileInfo>("--llm") { Description = "GGUF the adapter was trained for.", Required = true };
        var adapter = new Option<DirectoryInfo>("--adapter") { Description = "Adapter folder.", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where report.json and report.md go.", Required = true };
        var limit = new Option<int?>("--limit") { Description = "Only the first N questions." };
        var noImage = new Option<bool>("--no-image") { Description = "Withhold the images: the blind baseline that shows what the image contributes." };
        var metric = new Option<string?>("--metric") { Description = "relaxed, anls, vqa, exact or contains (default: the dataset's own)." };
        metric.AcceptOnlyFromAmong("relaxed", "anls", "vqa", "exact", "contains");
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest answer.", DefaultValueFactory = _ => 32 };
        var parallel = new Option<int>("--parallel") { Description = "Questions answered at once.", DefaultValueFactory = _ => 1 };
        var task = new Option<string>("--task") { Description = "general, ocr, chart or document.", DefaultValueFactory = _ => "general" };
        task.AcceptOnlyFromAmong("general", "ocr", "chart", "document");
        var suffix = new Option<string?>("--prompt-suffix") { Description = "Appended to every question (default: LLaVA's short-answer prompt for public sets, none for ours; \"\" for none)." };
        Option<int?> threads = SharedOptions.Threads();
        var command = new Command("eval", "Score an adapter on a VQA set: overall and per category, every prediction, throughput (report.json, report.md).")
        {
            data, images, encoder, llm, adapter, output, limit, noImage, metric, maxTokens, parallel, task, suffix, threads,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            EvalDataset dataset = EvalDataset.Read(parse.GetValue(data)!.FullName, parse.GetValue(images)?.FullName);
            foreach (var problem in dataset.Problems.Take(5))
            {
                await context.Error.WriteLineAsync($"warning: {problem}");
            }
            if (dataset.Problems.Count > 5)
            {
                await context.Error.WriteLineAsync($"warning: ... and {dataset.Problems.Count - 5} more records that could not be read.");
            }
            if (dataset.Samples.Count == 0)
            {
                throw new BadInputException($"{dataset.Path}: no questions to evaluate.", "bad-data");
            }
            int workers = Math.Max(1, parse.GetValue(parallel));
            var options = new EvalOptions
            {
                Metric = parse.GetValue(metric) is { } m ? AnswerScoring.Parse(m) : null,
                NoImage = parse.GetValue(noImage),
                Limit = parse.GetValue(limit),
                MaxTokens = parse.GetValue(maxTokens),
                Parallel = workers,
                PromptSuffix = parse.GetValue(suffix)?.Replace("\\n", "\n", StringComparison.Ordinal),
                Task = AssistantTasks.Parse(parse.GetValue(task)!),
            };
            await using VisionAssistant assistant = await VisionAssistant.LoadAsync(new AssistantOptions
            {
                EncoderPath = parse.GetValue(encoder)!.FullName,
                LlmPath = parse.GetValue(llm)!.FullName,
                AdapterPath = parse.GetValue(adapter)!.FullName,
                Threads = parse.GetValue(threads),
                Engine = new EngineOptions { MaxSessions = workers, MaxQueue = workers, ContextSize = 4096 * workers, MaxSessionTokens = 4096 },
            }, SemanticKernelTaskPrompts.Load(), cancellationToken: cancellationToken);
            int total = Math.Min(dataset.Samples.Count, options.Limit ?? int.MaxValue);
            await context.Output.WriteLineAsync($"{assistant.Description}: {total} questions from {Path.GetFileName(dataset.Path)} ({dataset.Format}), " +
                $"metric {AnswerScoring.Name(options.Metric ?? dataset.DefaultMetric)}{(options.NoImage ? ", images withheld" : "")}");
            EvalReport report = context.IsTerminal
                ? await WithProgressBar(context, assistant, dataset, options, total, cancellationToken)
                : await Evaluator.RunAsync(assistant, dataset, options, new Progress<EvalProgress>(p =>
                {
                    if (p.Done == p.Total || p.Done % Math.Max(1, p.Total / 10) == 0)
                    {
                        context.Output.WriteLine($"{p.Done}/{p.Total} score {p.RunningScore:P1}");
                    }
                }), cancellationToken);
            string directory = parse.GetValue(output)!.FullName;
            report.Write(directory);
            var table = new Table().AddColumn("category").AddColumn(new TableColumn("questions").RightAligned()).AddColumn(new TableColumn(report.Metric).RightAligned());
            foreach (var (category, score) in report.Categories)
            {
                table.AddRow(Markup.Escape(category), score.Count.ToString(CultureInfo.InvariantCulture), Percent(score.Score));
            }
            table.AddRow("overall", report.Samples.ToString(CultureInfo.InvariantCulture), Percent(report.Overall));
            context.Console.Write(table);
            await context.Output.WriteLineAsync($"{report.Throughput.SamplesPerSecond:F2} questions/s, {report.Throughput.GeneratedTokensPerSecond:F1} tokens/s; " +
                $"{report.Errors} could not be asked; report: {Path.Combine(directory, "report.md")}");
            return 0;
        });
        return command;
    }

    private static string Percent(double score) => (score * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private static async Task<EvalReport> WithProgressBar(CliContext context, VisionAssistant assistant, EvalDataset dataset, EvalOptions options, int total,
        CancellationToken cancellationToken)
    {
        EvalReport? report = null;
        await context.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                ProgressTask bar = progress.AddTask("evaluating", maxValue: total);
                report = await Evaluator.RunAsync(assistant, dataset, options, new Progress<EvalProgress>(p =>
                {
                    bar.Value = p.Done;
                    bar.Description = Markup.Escape($"{p.Done}/{p.Total} score {p.RunningScore:P1}");
                }), cancellationToken);
            });
        return report!;
    }
}
