using WebSsl.Training.Demo;

namespace WebSsl.Training.Tests.Demo;

/// <summary>How the demo is built: a stopped build continues where it stopped, and what it leaves is the shippable layout.</summary>
public sealed class DemoBuildTests
{
    private static readonly DemoOptions Tiny = new() { TrainImages = 12, TestImages = 3, Steps = 60, BatchSize = 2 };

    [Fact]
    public async Task A_stopped_build_continues_from_its_last_checkpoint_and_leaves_the_shippable_layout()
    {
        using var folder = new TempDirectory();
        using var stop = new CancellationTokenSource();
        var firstRun = new SynchronousProgress<DemoProgress>(p =>
        {
            if (IsStep(p) && p.Fraction >= 55.0 / 60)
            {
                stop.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DemoBundle.BuildAsync(folder.Path, Tiny, firstRun, stop.Token));
        Assert.Null(DemoBundle.TryOpen(folder.Path));
        Assert.True(Directory.Exists(Path.Combine(folder.Path, "adapter", "checkpoints")));

        var fractions = new List<double>();
        DemoBundle bundle = await DemoBundle.BuildAsync(folder.Path, Tiny, new SynchronousProgress<DemoProgress>(p =>
        {
            if (IsStep(p))
            {
                fractions.Add(p.Fraction);
            }
        }));

        Assert.True(fractions[0] > 50.0 / 60, $"the second build started training at {fractions[0]:P0} of the steps, not after the step-50 checkpoint");
        Assert.Equal(Tiny, DemoBundle.Open(folder.Path, Tiny).Options);
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "adapter", "checkpoints")));
        Assert.True(File.Exists(Path.Combine(folder.Path, DemoBundle.SamplesFile)));
        Assert.True(File.Exists(Path.Combine(folder.Path, DemoBundle.ExamplesFile)));
        Assert.True(Directory.Exists(Path.Combine(folder.Path, "work", "data")));
        Assert.Equal(bundle.Scores.SampleQuestions, System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, DemoBundle.SamplesFile))).RootElement.GetArrayLength());
    }

    /// <summary>A training step's report ("step 12/60, loss ..."), not one of the setup messages.</summary>
    private static bool IsStep(DemoProgress p) => p.Stage == "training" && p.Detail.StartsWith("step ", StringComparison.Ordinal);

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
