namespace WebSsl.HuggingFace.Tests;

public sealed class AccessTests
{
    [Fact]
    public async Task A_gated_repository_needs_HF_TOKEN_and_the_token_never_follows_the_redirect_to_the_CDN()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        world.PublishShardedEncoder("org/gated", gated: true);

        using (HubClient anonymous = world.Client())
        {
            var error = await Assert.ThrowsAsync<HubException>(() => new ModelPuller(anonymous).PullAsync("org/gated", file: "config.json"));
            Assert.Equal(HubErrorKind.Unauthorized, error.Kind);
            Assert.Contains("HF_TOKEN", error.Message);
        }

        using HubClient client = world.Client(world.Options with { Token = world.Hub.Token });
        PullResult pulled = await new ModelPuller(client).PullAsync("org/gated", file: ModelPuller.SafetensorsIndex);

        Assert.True(pulled.Files.Count >= 3);
        Assert.All(world.Hub.Requests.Where(r => r.Path.Contains("/resolve/", StringComparison.Ordinal) && r.Method == "HEAD" && r.Authorization is not null),
            r => Assert.Equal("127.0.0.1", r.Host));
        Assert.NotEmpty(world.Hub.CdnRequests);
        Assert.All(world.Hub.CdnRequests, r => Assert.Null(r.Authorization));
    }

    [Theory]
    [InlineData("org/missing", "config.json", "main", HubErrorKind.RepositoryNotFound, "repository not found")]
    [InlineData("org/model", "nope.json", "main", HubErrorKind.FileNotFound, "no such file")]
    [InlineData("org/model", "config.json", "v9", HubErrorKind.RevisionNotFound, "no such revision")]
    public async Task Missing_repositories_files_and_revisions_are_named(string repo, string file, string revision, HubErrorKind kind, string words)
    {
        await using HubWorld world = await HubWorld.StartAsync();
        world.Hub.Add("org/model", new Dictionary<string, byte[]> { ["config.json"] = "{}"u8.ToArray() });
        using HubClient client = world.Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync(repo, file, revision));

        Assert.Equal(kind, error.Kind);
        Assert.Contains(words, error.Message);
        Assert.Contains($"{repo}/{file}@{revision}", error.Message);
    }

    [Theory]
    [InlineData("../etc", "config.json")]
    [InlineData("org/model", "../../secret")]
    [InlineData("org/model", "/etc/passwd")]
    [InlineData("org/model", "a\\b")]
    [InlineData("justaname", "config.json")]
    public async Task Names_that_could_escape_the_cache_are_refused_before_any_request(string repo, string file)
    {
        await using HubWorld world = await HubWorld.StartAsync();
        using HubClient client = world.Client();

        await Assert.ThrowsAsync<BadInputException>(() => client.DownloadAsync(repo, file));

        Assert.Empty(world.Hub.Requests);
    }

    [Fact]
    public async Task An_index_naming_a_shard_outside_the_repository_is_refused()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        world.Hub.Add("org/evil", new Dictionary<string, byte[]>
        {
            ["config.json"] = "{}"u8.ToArray(),
            [ModelPuller.SafetensorsIndex] = """{"metadata": {}, "weight_map": {"a": "../../../../tmp/evil.safetensors"}}"""u8.ToArray(),
        });
        using HubClient client = world.Client();

        var error = await Assert.ThrowsAsync<HubException>(() => new ModelPuller(client).PullAsync("org/evil"));

        Assert.Equal(HubErrorKind.Protocol, error.Kind);
        Assert.Contains("not a plain file name", error.Message);
    }

    [Fact]
    public async Task Offline_a_pulled_model_is_served_from_the_cache_and_anything_else_is_a_clear_error()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        world.PublishShardedEncoder();
        using (HubClient online = world.Client())
        {
            await new ModelPuller(online).PullAsync(HubWorld.Dino);
        }
        HubOptions unreachable = world.Options with { Endpoint = "http://127.0.0.1:1", MaxAttempts = 1 };

        using (HubClient client = world.Client(unreachable))
        {
            PulledFile cached = await client.DownloadAsync(HubWorld.Dino, "config.json");
            Assert.False(cached.Downloaded);
            PullResult snapshot = await new ModelPuller(client).PullAsync(HubWorld.Dino); // the whole checkpoint, without listing the repository
            Assert.Contains(snapshot.Files, f => f.File == ModelPuller.SafetensorsIndex);
            Assert.True(File.Exists(Path.Combine(snapshot.Path, "config.json")));
            var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("org/never-pulled", "config.json"));
            Assert.Equal(HubErrorKind.Unavailable, error.Kind);
            Assert.Contains("127.0.0.1:1", error.Message);
        }

        using HubClient offline = world.Client(world.Options with { Offline = true });
        Assert.True(File.Exists((await offline.DownloadAsync(HubWorld.Dino, ModelPuller.SafetensorsIndex)).Path));
        var offlineError = await Assert.ThrowsAsync<HubException>(() => offline.DownloadAsync("org/never-pulled", "config.json"));
        Assert.Contains("HF_HUB_OFFLINE", offlineError.Message);
    }
}
