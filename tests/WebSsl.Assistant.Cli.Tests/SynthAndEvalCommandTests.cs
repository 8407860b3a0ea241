using System.Text.Json;
using WebSsl.Language;
using WebSsl.Training.Runs;
using WebSsl.Vision;

namespace WebSsl.Assistant.Cli.Tests;

public sealed class SynthAndEvalCommandTests
{
    [Fact]
    public async Task Synth_writes_images_llava_json_layout_and_a_manifest()
    {
        using var dir = new TempDirectory();
        CliRun run = await CliRun.Webssl("synth", "--kind", "bar", "--count", "5", "--seed", "9", "--out", dir.Path, "--size", "400x300");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("5 images,", run.Output);
        Assert.Contains("value-lookup", run.Output);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(dir.Path, "images"), "bar-*.png").Length);
        using JsonDocument data = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "data.json")));
        Assert.True(data.RootElement.GetArrayLength() >= 15);
        Assert.Equal("400x300", JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "manifest.json"))).RootElement.GetProperty("size").GetString());
    }

    [Theory]
    [InlineData("--size", "big", "is not WxH")]
    [InlineData("--size", "20x20", "between 128 and 4096")]
    [InlineData("--count", "0", "--count is 0")]
    public async Task Synth_explains_bad_arguments(string option, string value, string message)
    {
        using var dir = new TempDirectory();
        CliRun run = await CliRun.Webssl("synth", "--out", dir.Path, option, value);
        Assert.Equal(WebSslCli.InputError, run.ExitCode);
        Assert.Contains(message, run.Error);
    }

    [Fact]
    public async Task Eval_scores_a_trained_adapter_and_its_blind_baseline()
    {
        using var world = new TrainingWorld();
        string adapter = Path.Combine(world.Root, "adapter");
        using (VisionEncoder encoder = world.LoadEncoder())
        using (LanguageModel llm = world.LoadLlm())
        {
            await Trainer.RunAsync(new TrainingInputs { DataFile = world.DataFile, ImageDirectory = world.ImageDirectory, OutputDirectory = adapter, Encoder = encoder, Llm = llm },
                new TrainingOptions { MaxSteps = 200, BatchSize = 8, LearningRate = 5e-3, WarmupRatio = 0.05, CheckpointEvery = 1000, ValidateEvery = 1000 });
        }
        string[] common = ["eval", "--data", world.DataFile, "--images", world.ImageDirectory, "--encoder", world.EncoderDirectory, "--llm", world.LlmPath,
            "--adapter", adapter, "--max-tokens", "8"];

        CliRun seeing = await CliRun.Webssl([.. common, "--out", world.Sub("seeing")]);
        CliRun blind = await CliRun.Webssl([.. common, "--out", world.Sub("blind"), "--no-image", "--parallel", "2"]);

        Assert.Equal(0, seeing.ExitCode);
        Assert.Contains("overall", seeing.Output);
        Assert.Contains("100.0%", seeing.Output);
        Assert.Contains("8/8 score", seeing.Output);
        Assert.Equal(0, blind.ExitCode);
        Assert.Contains("images withheld", blind.Output);
        JsonElement report = JsonDocument.Parse(File.ReadAllText(Path.Combine(world.Root, "blind", "report.json"))).RootElement;
        Assert.True(report.GetProperty("overall").GetDouble() < 1.0);
        Assert.True(report.GetProperty("noImage").GetBoolean());
        Assert.True(File.Exists(Path.Combine(world.Root, "seeing", "report.md")));
    }

    [Fact]
    public async Task Eval_refuses_a_file_it_cannot_read()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("broken.json"), "[{\"imgname\": ");
        CliRun run = await CliRun.Webssl("eval", "--data", dir.File("broken.json"), "--encoder", dir.Path, "--llm", dir.File("x.gguf"), "--adapter", dir.Path, "--out", dir.Path);
        Assert.Equal(WebSslCli.InputError, run.ExitCode);
        Assert.Contains("broken.json", run.Error);
    }
}
