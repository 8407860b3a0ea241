using WebSsl.Vision.Fixtures;

namespace WebSsl.Assistant.Cli.Tests;

/// <summary>
/// `webssl models` against a fake hub on loopback. The commands read HF_ENDPOINT and HF_HUB_CACHE like huggingface_hub;
/// only this class sets them, and it restores them afterwards.
/// </summary>
public sealed class ModelsCommandTests : IAsyncLifetime
{
    private readonly TempDirectory temp = new();
    private FakeHub hub = null!;
    private readonly Dictionary<string, string?> saved = [];

    public async Task InitializeAsync()
    {
        hub = await FakeHub.StartAsync();
        foreach (string name in new[] { "HF_ENDPOINT", "HF_HUB_CACHE", "HF_TOKEN", "HF_HUB_OFFLINE" })
        {
            saved[name] = Environment.GetEnvironmentVariable(name);
        }
        Environment.SetEnvironmentVariable("HF_ENDPOINT", hub.Endpoint);
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", temp.File("cache"));
        Environment.SetEnvironmentVariable("HF_TOKEN", null);
        Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", null);
    }

    public async Task DisposeAsync()
    {
        foreach ((string name, string? value) in saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
        await hub.DisposeAsync();
        temp.Dispose();
    }

    [Fact]
    public async Task Pull_then_path_then_features_runs_the_pulled_checkpoint()
    {
        string published = temp.Sub("published");
        CheckpointGenerator.Write(published, CheckpointGenerator.Shape("tiny"), new GeneratorOptions { MaxShardBytes = 40_000 });
        hub.AddFolder("facebook/webssl-dino300m-full2b-224", published);

        CliRun pull = await CliRun.Webssl("models", "pull", "webssl-dino300m-full2b-224");

        Assert.Equal(0, pull.ExitCode);
        Assert.Contains("model.safetensors.index.json", pull.Output);
        Assert.Contains("downloaded, SHA-256 verified", pull.Output);
        string folder = pull.Output.Split('\n').Single(l => l.StartsWith("--encoder ", StringComparison.Ordinal))["--encoder ".Length..].Trim();
        Assert.StartsWith(temp.File("cache"), folder);

        CliRun again = await CliRun.Webssl("models", "pull", "webssl-dino300m-full2b-224");
        Assert.Contains("already cached", again.Output);
        Assert.Contains("(0 B downloaded)", again.Output);

        CliRun path = await CliRun.Webssl("models", "path", "webssl-dino300m-full2b-224");
        Assert.Equal(folder, path.Output.Trim());

        CliRun list = await CliRun.Webssl("models", "list", "--dir", temp.File("nothing-here"));
        Assert.Contains("facebook/webssl-dino300m-full2b-224", list.Output);
        Assert.Contains("dinov2, 2 layers, 32 wide", list.Output);

        string image = temp.File("chart.png");
        using (var picture = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(64, 48, new SixLabors.ImageSharp.PixelFormats.Rgb24(200, 30, 60)))
        {
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(picture, image);
        }
        CliRun features = await CliRun.Webssl("features", "--encoder", folder, "--image", image, "--out", temp.File("features.safetensors"));
        Assert.Equal(0, features.ExitCode);
    }

    [Fact]
    public async Task Pull_explains_a_missing_repository_and_path_explains_a_model_not_pulled()
    {
        CliRun pull = await CliRun.Webssl("models", "pull", "org/does-not-exist");
        Assert.Equal(WebSslCli.InputError, pull.ExitCode);
        Assert.Contains("repository not found", pull.Error);

        CliRun path = await CliRun.Webssl("models", "path", "webssl-dino1b-full2b-224");
        Assert.Equal(WebSslCli.InputError, path.ExitCode);
        Assert.Contains("webssl models pull webssl-dino1b-full2b-224", path.Error);

        CliRun catalog = await CliRun.Webssl("models", "catalog");
        Assert.Contains("webssl-dino7b-full8b-518", catalog.Output);
        Assert.Contains("qwen2.5-0.5b-instruct-q8_0.gguf", catalog.Output);
    }
}
