using WebSsl.Vision;

namespace WebSsl.HuggingFace.Tests;

public sealed class PullTests
{
    [Fact]
    public async Task A_short_name_pulls_the_sharded_checkpoint_by_its_index_into_the_HuggingFace_cache_layout()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        FakeHub.Repo published = world.PublishShardedEncoder();
        Assert.True(published.Files.Keys.Count(k => k.StartsWith("model-0", StringComparison.Ordinal)) >= 2, "the fixture should be sharded");
        using HubClient client = world.Client();

        PullResult result = await new ModelPuller(client).PullAsync("webssl-dino300m-full2b-224");

        string repoFolder = Path.Combine(world.CacheDirectory, "models--facebook--webssl-dino300m-full2b-224");
        Assert.Equal(Path.Combine(repoFolder, "snapshots", published.Commit), result.Path);
        Assert.Equal(published.Commit, File.ReadAllText(Path.Combine(repoFolder, "refs", "main")));
        Assert.Equal(published.Files.Keys.Order(StringComparer.Ordinal), result.Files.Select(f => f.File).Order(StringComparer.Ordinal));
        foreach ((string name, byte[] content) in published.Files)
        {
            var link = new FileInfo(Path.Combine(result.Path, name));
            string etag = content.Length >= world.Hub.LfsThreshold ? FakeHub.Sha256(content) : FakeHub.GitBlobSha1(content);
            Assert.Equal(Path.Combine("..", "..", "blobs", etag), link.LinkTarget); // relative links, as huggingface_hub makes them
            Assert.Equal(content, File.ReadAllBytes(link.FullName));
        }
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(repoFolder, "blobs"), "*.incomplete"));

        // The snapshot folder is a checkpoint the encoder loads as it is.
        using VisionEncoder encoder = VisionEncoder.Load(result.Path);
        Assert.Equal(32, encoder.Config.HiddenSize);
    }

    [Fact]
    public async Task A_second_pull_only_asks_for_metadata_and_a_cache_filled_by_another_tool_is_reused()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        FakeHub.Repo published = world.PublishShardedEncoder();
        using HubClient client = world.Client();
        var puller = new ModelPuller(client);
        PullResult first = await puller.PullAsync(HubWorld.Dino);
        Assert.All(first.Files, f => Assert.True(f.Downloaded));
        int cdnBefore = world.Hub.CdnRequests.Count();

        PullResult second = await puller.PullAsync(HubWorld.Dino);

        Assert.All(second.Files, f => Assert.False(f.Downloaded));
        Assert.Equal(cdnBefore, world.Hub.CdnRequests.Count());
        Assert.DoesNotContain(world.Hub.Requests.Skip(world.Hub.Requests.Count - second.Files.Count - 1), r => r.Method == "GET" && r.Path.Contains("/resolve/", StringComparison.Ordinal));

        // huggingface-cli leaves blobs and links like ours; a cache it filled is used without a byte downloaded.
        string otherCache = world.Temp.Sub("other-tool-cache");
        CopyCache(world.CacheDirectory, otherCache);
        using HubClient other = world.Client(world.Options with { CacheDirectory = otherCache });
        int cdn = world.Hub.CdnRequests.Count();
        PullResult reused = await new ModelPuller(other).PullAsync(HubWorld.Dino);
        Assert.All(reused.Files, f => Assert.False(f.Downloaded));
        Assert.Equal(cdn, world.Hub.CdnRequests.Count());
        Assert.Equal(published.Files["config.json"], File.ReadAllBytes(Path.Combine(reused.Path, "config.json")));
    }

    [Fact]
    public async Task A_GGUF_repository_needs_a_file_and_catalog_names_choose_it()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        byte[] q8 = new byte[5000];
        new Random(1).NextBytes(q8);
        FakeHub.Repo published = world.Hub.Add("Qwen/Qwen2.5-0.5B-Instruct-GGUF", new Dictionary<string, byte[]>
        {
            ["qwen2.5-0.5b-instruct-q8_0.gguf"] = q8,
            ["qwen2.5-0.5b-instruct-q4_k_m.gguf"] = new byte[3000],
            ["README.md"] = "# Qwen"u8.ToArray(),
        });
        world.Hub.Add("someone/tiny-GGUF", new Dictionary<string, byte[]>
        {
            ["tiny-q8_0.gguf"] = new byte[100],
            ["qwen2.5-0.5b-instruct-q4_k_m.gguf"] = new byte[100],
        });
        using HubClient client = world.Client();
        var puller = new ModelPuller(client);

        var whole = await Assert.ThrowsAsync<BadInputException>(() => puller.PullAsync("someone/tiny-GGUF"));
        Assert.Contains("choose one with --file", whole.Message);
        Assert.Contains("qwen2.5-0.5b-instruct-q4_k_m.gguf", whole.Message);

        PullResult byName = await puller.PullAsync("qwen2.5-0.5b-instruct");
        Assert.Equal(q8, File.ReadAllBytes(byName.Path));
        Assert.EndsWith(Path.Combine("snapshots", published.Commit, "qwen2.5-0.5b-instruct-q8_0.gguf"), byName.Path);
        Assert.Equal(FakeHub.Sha256(q8), byName.Files.Single().Sha256);

        PullResult byFile = await puller.PullAsync("Qwen/Qwen2.5-0.5B-Instruct-GGUF", file: "qwen2.5-0.5b-instruct-q4_k_m.gguf", revision: published.Commit);
        Assert.Equal(new byte[3000], File.ReadAllBytes(byFile.Path));
    }

    [Fact]
    public async Task An_empty_file_in_a_repository_is_pulled_as_an_empty_file()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        world.Hub.Add("org/model", new Dictionary<string, byte[]> { ["config.json"] = "{}"u8.ToArray(), [".gitkeep"] = [] });
        using HubClient client = world.Client();

        PulledFile file = await client.DownloadAsync("org/model", ".gitkeep");

        Assert.Empty(File.ReadAllBytes(file.Path));
    }

    [Fact]
    public async Task A_renamed_repository_is_followed_within_the_hub()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        world.Hub.Add("org/model", new Dictionary<string, byte[]> { ["config.json"] = "{}"u8.ToArray() });
        using HubClient client = world.Client();

        PulledFile file = await client.DownloadAsync("old-org/model", "config.json");

        Assert.Equal("{}", File.ReadAllText(file.Path));
    }

    private static void CopyCache(string from, string to)
    {
        foreach (string dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            if (new FileInfo(file).LinkTarget is string link)
            {
                File.CreateSymbolicLink(target, link);
            }
            else
            {
                File.Copy(file, target);
            }
        }
    }
}
