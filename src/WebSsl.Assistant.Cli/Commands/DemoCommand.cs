using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WebSsl.Training.Demo;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl demo</c>: builds (once) the offline demo assistant and shows what it scored.</summary>
internal static class DemoCommand
{
    public static readonly string DefaultDirectory = Path.Combine(".webssl", "demo");

    public static Command Create(CliContext context)
    {
        var directory = new Option<DirectoryInfo>("--dir") { Description = "Where the bundle is kept.", DefaultValueFactory = _ => new DirectoryInfo(DefaultDirectory) };
        var rebuild = new Option<bool>("--rebuild") { Description = "Build again even if a bundle is cached." };
        var d = new DemoOptions();
        var steps = new Option<int?>("--steps") { Description = $"Training steps (default {d.Steps})." };
        var images = new Option<int?>("--train-images") { Description = $"Synthetic training images (default {d.TrainImages})." };
        var testImages = new Option<int?>("--test-images") { Description = $"Held-out synthetic images for the scores (default {d.TestImages})." };
        var batch = new Option<int?>("--batch-size") { Description = $"Conversations per step (default {d.BatchSize})." };
        var lr = new Option<double?>("--lr") { Description = $"Peak learning rate (default {d.LearningRate.ToString(CultureInfo.InvariantCulture)})." };
        var seed = new Option<int?>("--seed") { Description = $"Seed for data and weights (default {d.Seed})." };
        var command = new Command("demo", "Build the offline demo assistant (a small Web-DINO encoder, LLM and projector trained from scratch on synthetic charts; " +
            "about 15 minutes on 2 CPU cores, then cached) and print its held-out scores.")
        {
            directory, rebuild, steps, images, testImages, batch, lr, seed,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var defaults = new DemoOptions();
            var options = defaults with
            {
                Steps = parse.GetValue(steps) ?? defaults.Steps,
                TrainImages = parse.GetValue(images) ?? defaults.TrainImages,
                TestImages = parse.GetValue(testImages) ?? defaults.TestImages,
                BatchSize = parse.GetValue(batch) ?? defaults.BatchSize,
                LearningRate = parse.GetValue(lr) ?? defaults.LearningRate,
                Seed = parse.GetValue(seed) ?? defaults.Seed,
            };
            DemoBundle bundle = await OpenOrBuildAsync(context, parse.GetValue(directory)!.FullName, options, parse.GetValue(rebuild), cancellationToken);
            WriteScores(context, bundle);
            return 0;
        });
        return command;
    }

    /// <summary>The cached bundle, or a build with progress lines (shared with <c>serve</c>, which uses the demo when no models are configured).</summary>
    /// <param name="options">What to build; null accepts whatever bundle is cached and builds the default one when there is none.</param>
    public static async Task<DemoBundle> OpenOrBuildAsync(CliContext context, string directory, DemoOptions? options, bool rebuild, CancellationToken cancellationToken)
    {
        if (!rebuild && DemoBundle.TryOpen(directory, options) is DemoBundle cached)
        {
            await context.Output.WriteLineAsync($"demo assistant: cached in {directory} (built in {cached.BuildSeconds / 60:F1} min; --rebuild to build again)");
            return cached;
        }
        await context.Output.WriteLineAsync($"building the demo assistant in {directory}: synthetic data, then a Web-DINO-style encoder, an LLM and a projector trained " +
            "from scratch together on this CPU (about 15 minutes on 2 cores; done once, then cached)...");
        string lastStage = "";
        int lastDecile = -1;
        var progress = new Progress<DemoProgress>(p =>
        {
            int decile = (int)(p.Fraction * 10);
            if (p.Stage != lastStage || decile != lastDecile || p.Detail.StartsWith("validation", StringComparison.Ordinal))
            {
                context.Output.WriteLine($"  [{p.Stage}] {p.Detail}");
                lastStage = p.Stage;
                lastDecile = decile;
            }
        });
        DemoBundle bundle = await DemoBundle.BuildAsync(directory, options ?? new DemoOptions(), progress, cancellationToken);
        await context.Output.WriteLineAsync($"demo assistant built in {bundle.BuildSeconds / 60:F1} min (training {bundle.TrainSeconds / 60:F1} min).");
        return bundle;
    }

    public static void WriteScores(CliContext context, DemoBundle bundle)
    {
        DemoScores s = bundle.Scores;
        var table = new Table().AddColumn("category").AddColumn(new TableColumn("with the image").RightAligned()).AddColumn(new TableColumn("blind (--no-image)").RightAligned());
        foreach (var (category, score) in s.Categories)
        {
            table.AddRow(Markup.Escape(category), Percent(score), Percent(s.BlindCategories.GetValueOrDefault(category)));
        }
        table.AddRow("[bold]overall[/]", $"[bold]{Percent(s.Overall)}[/]", $"[bold]{Percent(s.Blind)}[/]");
        context.Output.WriteLine($"{DemoBundle.Label}: relaxed accuracy on {s.Questions} held-out synthetic questions");
        context.Console.Write(table);
        context.Output.WriteLine($"reports: {Path.Combine(bundle.Directory, "eval", "report.md")}, {Path.Combine(bundle.Directory, "eval-blind", "report.md")}");
        context.Output.WriteLine("This demo knows only synthetic charts like its training data. For real images: webssl models pull (see README, \"Real models\").");
    }

    private static string Percent(double score) => (score * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
