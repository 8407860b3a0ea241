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
    public async Task Bench_tiles_counts_tokens_per_page_and_times_a_page_tiled_and_as_one_view()
    {
        string encoder = _temp.File("encoder"), llm = _temp.File("llm.gguf");
        WebSsl.Vision.Fixtures.CheckpointGenerator.Write(encoder, WebSsl.Vision.Fixtures.CheckpointGenerator.Shape("tiny"));
        WebSsl.Language.Fixtures.TinyLlamaBuilder.WriteRandom(llm, WebSsl.Language.Fixtures.LlamaShape.Get("tiny"));

        CliRun run = await CliRun.Webssl("bench", "tiles", "--encoder", encoder, "--llm", llm, "--pages", "1", "--max-tiles", "4");

        Assert.Equal(0, run.ExitCode);
        // The token table is the projector's arithmetic for an A4 page: at 224 px a view is 16x16 patches.
        Assert.Contains("global+1x2", run.Output); // within 4 tiles, A4's closest shape
        Assert.Contains("771", run.Output); // 256 + separator + 2 x 256 + 2 row breaks
        Assert.Contains("195", run.Output); // merged 2x2: 64 + 1 + 2 x 64 + 2
        Assert.Contains("27x27 patches cannot merge 2x2: with --token-grid 28", run.Output);
        Assert.Contains("encoder time per view, tiled (views batched) / one view:", run.Output);
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
