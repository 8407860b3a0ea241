using WebSsl.Training.Demo;
using WebSsl.Training.Evaluation;

namespace WebSsl.Training.Tests.Demo;

/// <summary>
/// The guard of the demo assistant shipped in adapters/demo-synthetic-charts: it must still be of this program's recipe
/// and bundle format, and still answer its fixed held-out sample as well as when it was built (within 3 points), so no
/// change to the tokenizer, the prompt format, preprocessing or the model code can break it unnoticed.
/// </summary>
public sealed class ShippedDemoTests
{
    public static string ShippedDirectory => Path.Combine(Repository.Root, "adapters", DemoBundle.ShippedFolder);

    [Fact]
    public async Task The_shipped_demo_answers_its_held_out_sample_as_well_as_when_it_was_built()
    {
        DemoBundle bundle = DemoBundle.Open(ShippedDirectory, new DemoOptions());
        EvalDataset sample = EvalDataset.Read(bundle.Resolve(DemoBundle.SamplesFile));
        Assert.Equal(bundle.Scores.SampleQuestions, sample.Samples.Count);
        Assert.InRange(sample.Samples.Count, DemoBundle.SampleSize * 9 / 10, DemoBundle.SampleSize);

        EvalReport report = await bundle.EvaluateAsync(sample, noImage: false);

        Assert.Equal(0, report.Errors);
        Assert.True(report.Overall >= bundle.Scores.Sample - 0.03,
            $"the shipped demo scores {report.Overall:P1} on its sample; it scored {bundle.Scores.Sample:P1} when it was built ({bundle.Commit}). " +
            $"Something between the shipped weights and the answers changed: {string.Join("; ", report.Predictions.Where(p => p.Score == 0).Take(5).Select(p => $"{p.Question} → '{p.Prediction}' (expected {p.Answers[0]})"))}");
    }

    [Fact]
    public void A_bundle_of_another_recipe_or_format_is_refused_naming_what_differs()
    {
        var other = new DemoOptions { Steps = 7 };
        var recipe = Assert.Throws<DemoBundleException>(() => DemoBundle.Open(ShippedDirectory, other));
        Assert.Contains($"Steps {new DemoOptions().Steps} (this program: 7)", recipe.Message);
        Assert.Null(DemoBundle.TryOpen(ShippedDirectory, other));

        using var copy = new TempDirectory();
        string manifest = File.ReadAllText(Path.Combine(ShippedDirectory, DemoBundle.ManifestFile));
        File.WriteAllText(Path.Combine(copy.Path, DemoBundle.ManifestFile), manifest.Replace($"\"format\": {DemoBundle.FormatVersion}", "\"format\": 1", StringComparison.Ordinal));
        var format = Assert.Throws<DemoBundleException>(() => DemoBundle.Open(copy.Path));
        Assert.Contains($"this program reads format {DemoBundle.FormatVersion}", format.Message);
    }

    [Fact]
    public void The_shipped_bundle_is_small_and_records_its_recipe_commit_time_and_scores()
    {
        DemoBundle bundle = DemoBundle.Open(ShippedDirectory, new DemoOptions());
        long bytes = new DirectoryInfo(ShippedDirectory).EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(ShippedDirectory, f.FullName).StartsWith("work", StringComparison.Ordinal)).Sum(f => f.Length);
        Assert.True(bytes < 20L * 1024 * 1024, $"the shipped demo takes {bytes / 1024.0 / 1024:F1} MiB");
        Assert.Matches(@"^[0-9a-f]{40}(\+dirty)?$", bundle.Commit);
        Assert.True(bundle.BuildSeconds > 0 && bundle.TrainSeconds > 0);
        Assert.True(bundle.Scores.Overall > bundle.Scores.Blind);
        Assert.True(File.Exists(bundle.Resolve(DemoBundle.ExamplesFile)));
    }
}
