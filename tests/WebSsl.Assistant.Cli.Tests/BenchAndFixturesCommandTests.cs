using WebSsl.Vision;

namespace WebSsl.Assistant.Cli.Tests;

public sealed class BenchAndFixturesCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact]
    public async Task Bench_encoder_prints_a_ratio_to_sgemm_for_each_shape()
    {
        CliRun run = await CliRun.Webssl("bench", "encoder", "--shapes", "tiny,tiny-mae", "--iterations", "2");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("tiny-mae", run.Output);
        Assert.Contains("ratio", run.Output);
        Assert.Contains("SGEMM GFLOP/s", run.Output);
    }

    [Fact]
    public async Task Bench_load_reports_peak_memory_relative_to_the_weights()
    {
        CliRun run = await CliRun.Webssl("bench", "load", "--shape", "tiny", "--stored", "bf16");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("peak added / weights =", run.Output);
        Assert.Contains("stored BF16", run.Output);
    }

    [Fact]
    public async Task An_unknown_shape_is_refused_with_the_list_of_shapes()
    {
        CliRun run = await CliRun.Webssl("bench", "encoder", "--shapes", "vit-h");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("dino300m", run.Error);
    }

    [Theory]
    [InlineData("tiny", "F16", null)]
    [InlineData("tiny-mae", "BF16", "1")]
    public async Task Fixtures_write_checkpoints_the_encoder_loads(string shape, string stored, string? shardMb)
    {
        string dir = _temp.File(shape);
        string[] args = ["fixtures", "encoder", "--shape", shape, "--stored", stored, "--out", dir, .. shardMb is null ? Array.Empty<string>() : ["--shard-mb", shardMb]];
        Assert.Equal(0, (await CliRun.Webssl(args)).ExitCode);
        using VisionEncoder encoder = VisionEncoder.Load(dir);
        Assert.True(File.Exists(Path.Combine(dir, "preprocessor_config.json")));
    }

    public void Dispose() => _temp.Dispose();
}

public sealed class QuickstartCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact]
    public async Task Quickstart_runs_the_encoder_on_a_generated_chart_and_reuses_the_checkpoint()
    {
        CliRun first = await CliRun.Webssl("quickstart", "--shape", "tiny", "--dir", _temp.Path);
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("writing a random-weight tiny", first.Output);
        Assert.Contains("features  9 patch tokens x 32", first.Output);
        Assert.True(File.Exists(Path.Combine(_temp.Path, "chart.png")));

        CliRun second = await CliRun.Webssl("quickstart", "--shape", "tiny", "--dir", _temp.Path);
        Assert.Equal(0, second.ExitCode);
        Assert.DoesNotContain("writing", second.Output);
    }

    public void Dispose() => _temp.Dispose();
}
