using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Images;

namespace WebSsl.HuggingFace.Tests;

/// <summary>A fake hub, an empty cache, and a client pointed at both; per test.</summary>
public sealed class HubWorld : IAsyncDisposable
{
    public const string Dino = "facebook/webssl-dino300m-full2b-224";

    private HubWorld(FakeHub hub, TempDirectory temp)
    {
        Hub = hub;
        Temp = temp;
    }

    public FakeHub Hub { get; }

    public TempDirectory Temp { get; }

    public string CacheDirectory => Temp.File("hf-cache");

    public HubOptions Options => new() { Endpoint = Hub.Endpoint, CacheDirectory = CacheDirectory, RetryDelay = TimeSpan.FromMilliseconds(10), ReadTimeout = TimeSpan.FromSeconds(10) };

    public HubClient Client(HubOptions? options = null) => new(options ?? Options);

    public static async Task<HubWorld> StartAsync() => new(await FakeHub.StartAsync(), new TempDirectory());

    /// <summary>
    /// A real (tiny, random) Web-DINO checkpoint in the HF layout — config.json, preprocessor_config.json, an index and
    /// shards — published on the fake hub under the name of the real 300M checkpoint.
    /// </summary>
    public FakeHub.Repo PublishShardedEncoder(string repo = Dino, bool gated = false)
    {
        string folder = Temp.Sub("publish-" + repo.Replace('/', '-'));
        CheckpointGenerator.Write(folder, CheckpointGenerator.Shape("tiny"), new GeneratorOptions
        {
            MaxShardBytes = 40_000,
            Preprocessor = PreprocessorConfig.DefaultFor(42),
        });
        return Hub.AddFolder(repo, folder, gated);
    }

    public async ValueTask DisposeAsync()
    {
        await Hub.DisposeAsync();
        Temp.Dispose();
    }
}
