using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WebSsl.Training.Synthesis;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl synth</c>: chart and document VQA data with exactly known answers.</summary>
internal static class SynthCommand
{
    public static Command Create(CliContext context)
    {
        var kind = new Option<string>("--kind") { Description = "bar, line, pie, table, document, receipt, mixed (all but pages) or page (full document pages with small text).", DefaultValueFactory = _ => "mixed" };
        kind.AcceptOnlyFromAmong("bar", "line", "pie", "table", "document", "receipt", "mixed", "page");
        var count = new Option<int>("--count") { Description = "Images to render (each gets up to 4 questions).", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "Same seed, same bytes.", DefaultValueFactory = _ => 0 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for images/, data.json, layout.jsonl and manifest.json.", Required = true };
        var profile = new Option<string>("--profile") { Description = "standard (every kind at realistic sizes) or demo (140x140 bar/line charts and short documents with large text, 224x336 pages with 112-px tiles' worth of text, for models trained from scratch).", DefaultValueFactory = _ => "standard" };
        profile.AcceptOnlyFromAmong("standard", "demo");
        var conversations = new Option<bool>("--conversations") { Description = "One multi-turn record per image (all its questions) instead of one per question; for training." };
        var captions = new Option<bool>("--captions") { Description = "Add a last turn \"Describe the image.\" answered with everything drawn; dense training targets." };
        var size = new Option<string?>("--size") { Description = "WxH for every image (default per kind: charts 512x384, documents 448x576, receipts 320x512, pages 1240x1754 = A4 at 150 dpi)." };
        var pdfPages = new Option<int?>("--pdf-pages") { Description = "Also bind every N pages into a PDF (documents/ and documents.json, with each question's page); --kind page only." };
        var command = new Command("synth", "Render synthetic charts, tables, documents and receipts with exactly known answers, as LLaVA JSON.")
        {
            kind, count, seed, output, size, profile, conversations, captions, pdfPages,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            (int? width, int? height) = ParseSize(parse.GetValue(size));
            var options = new SynthOptions
            {
                Kind = SyntheticDataset.ParseKind(parse.GetValue(kind)!),
                Count = parse.GetValue(count),
                Seed = parse.GetValue(seed),
                Profile = Enum.Parse<SynthProfile>(parse.GetValue(profile)!, ignoreCase: true),
                Conversations = parse.GetValue(conversations),
                Captions = parse.GetValue(captions),
                PdfPages = parse.GetValue(pdfPages),
                Width = width,
                Height = height,
            };
            string directory = parse.GetValue(output)!.FullName;
            SynthSummary summary = context.IsTerminal
                ? await WithProgressBar(context, options, directory, cancellationToken)
                : await Task.Run(() => SyntheticDataset.Write(options, directory, null, cancellationToken), cancellationToken);
            await context.Output.WriteLineAsync($"{summary.Images} images, {summary.Questions} questions -> {summary.DataFile}");
            var table = new Table().AddColumn("category").AddColumn(new TableColumn("questions").RightAligned());
            foreach (var (category, n) in summary.Categories)
            {
                table.AddRow(category, n.ToString(CultureInfo.InvariantCulture));
            }
            context.Console.Write(table);
            await context.Output.WriteLineAsync("kinds: " + string.Join(", ", summary.Kinds.Select(k => $"{k.Key} {k.Value}")));
            return 0;
        });
        return command;
    }

    private static (int?, int?) ParseSize(string? text)
    {
        if (text is null)
        {
            return (null, null);
        }
        string[] parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out int w) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int h))
        {
            return (w, h);
        }
        throw new BadInputException($"--size '{text}' is not WxH (for example 640x480).");
    }

    private static async Task<SynthSummary> WithProgressBar(CliContext context, SynthOptions options, string directory, CancellationToken cancellationToken)
    {
        SynthSummary? summary = null;
        await context.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                ProgressTask task = progress.AddTask("rendering", maxValue: options.Count);
                var reporter = new Progress<int>(done => task.Value = done);
                summary = await Task.Run(() => SyntheticDataset.Write(options, directory, reporter, cancellationToken), cancellationToken);
            });
        return summary!;
    }
}
