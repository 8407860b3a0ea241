using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WebSsl.Training.Demo;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary>
/// <c>webssl demo</c>: shows the offline demo assistant that ships with the repository (and what it scored), or builds it
/// again from the same recipe into the user's cache with <c>--rebuild</c>.
/// </summary>
internal static class DemoCommand
{
    /// <summary>Where <c>--rebuild</c> puts the user's own build: $XDG_CACHE_HOME/webssl/demo, else ~/.cache/webssl/demo.</summary>
    public static string CacheDirectory => Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? cache : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
        "webssl", "demo");

    /// <summary>The bundle shipped with the repository (adapters/demo-synthetic-charts), copied next to the program by the build.</summary>
    public static string ShippedDirectory => Path.Combine(AppContext.BaseDirectory, DemoBundle.ShippedFolder);

    /// <summary>
    /// The demo bundle to use, never built here: <paramref name="directory"/> when given (of any recipe: the user named
    /// it), else the user's rebuild in the cache, else the shipped one, each of this program's recipe. A bundle of
    /// another format, or an implicit one of another recipe, is refused with the reason, never served stale.
    /// </summary>
    public static DemoBundle Find(string? directory)
    {
        var recipe = new DemoOptions();
        if (directory is not null)
        {
            return DemoBundle.Open(directory);
        }
        if (DemoBundle.TryOpen(CacheDirectory, recipe) is DemoBundle rebuilt)
        {
            return rebuilt;
        }
        try
        {
            return DemoBundle.Open(ShippedDirectory, recipe);
        }
        catch (DemoBundleException e)
        {
            throw new DemoBundleException($"the demo assistant cannot be served: {e.Message} " +
                $"(A rebuild takes about an hour on 2 cores and goes to {CacheDirectory}.) Or serve real models (README, Real models).");
        }
    }

    public static Command Create(CliContext context)
    {
        var directory = new Option<DirectoryInfo?>("--dir") { Description = $"A bundle folder of your own (default: your rebuild in {CacheDirectory}, else the shipped one)." };
        var rebuild = new Option<bool>("--rebuild") { Description = $"Build it again from the recipe (into --dir, default {CacheDirectory}); a killed build resumes." };
        var d = new DemoOptions();
        var steps = new Option<int?>("--steps") { Description = $"Training steps (default {d.Steps})." };
        var images = new Option<int?>("--train-images") { Description = $"Synthetic training images (default {d.TrainImages})." };
        var testImages = new Option<int?>("--test-images") { Description = $"Held-out synthetic images for the scores (default {d.TestImages})." };
        var batch = new Option<int?>("--batch-size") { Description = $"Conversations per step (default {d.BatchSize})." };
        var lr = new Option<double?>("--lr") { Description = $"Peak learning rate (default {d.LearningRate.ToString(CultureInfo.InvariantCulture)})." };
        var seed = new Option<int?>("--seed") { Description = $"Seed for data and weights (default {d.Seed})." };
        var command = new Command("demo", "Show the offline demo assistant shipped with the repository (a small Web-DINO encoder, LLM and projector trained " +
            "from scratch on synthetic charts and documents) and its held-out scores; --rebuild builds it again (about an hour on 2 CPU cores).")
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
            string? folder = parse.GetValue(directory)?.FullName;
            DemoBundle bundle = folder is null && !parse.GetValue(rebuild) && options == defaults
                ? Find(null)
                : await OpenOrBuildAsync(context, folder ?? CacheDirectory, options, parse.GetValue(rebuild), cancellationToken);
            WriteScores(context, bundle);
            return 0;
        });
        return command;
    }

    /// <summary>The bundle in <paramref name="directory"/> if it is of this recipe, or a build there with progress lines.</summary>
    public static async Task<DemoBundle> OpenOrBuildAsync(CliContext context, string directory, DemoOptions options, bool rebuild, CancellationToken cancellationToken)
    {
        if (!rebuild && DemoBundle.TryOpen(directory, options) is DemoBundle cached)
        {
            await context.Output.WriteLineAsync($"demo assistant: cached in {directory} (built in {cached.BuildSeconds / 60:F1} min from {cached.Commit ?? "an unknown commit"}; --rebuild to build again)");
            return cached;
        }
        await context.Output.WriteLineAsync($"building the demo assistant in {directory}: synthetic data, then a Web-DINO-style encoder, an LLM and a projector trained " +
            "from scratch together on this CPU (about an hour on 2 cores; if stopped, the same command continues where it stopped)...");
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
        DemoBundle bundle = await DemoBundle.BuildAsync(directory, options, progress, cancellationToken);
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
