namespace WebSsl.HuggingFace.Tests;

public sealed class OptionsAndInventoryTests
{
    [Fact]
    public void Options_follow_huggingface_hub_environment_variables()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("token"), "hf_from_file\n");
        var env = new Dictionary<string, string?>
        {
            ["HOME"] = "/home/someone",
            ["HF_HOME"] = temp.Path,
            ["HF_ENDPOINT"] = "https://hf-mirror.example/",
            ["HF_HUB_OFFLINE"] = "1",
        };

        HubOptions options = HubOptions.FromEnvironment(k => env.GetValueOrDefault(k));

        Assert.Equal("https://hf-mirror.example", options.Endpoint);
        Assert.Equal("hf_from_file", options.Token); // the file huggingface-cli login writes
        Assert.Equal(Path.Combine(temp.Path, "hub"), options.CacheDirectory);
        Assert.True(options.Offline);

        env["HF_TOKEN"] = "hf_from_env";
        env["HF_HUB_CACHE"] = "~/hub-cache";
        env.Remove("HF_HUB_OFFLINE");
        options = HubOptions.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal("hf_from_env", options.Token);
        Assert.Equal("/home/someone/hub-cache", options.CacheDirectory);
        Assert.False(options.Offline);

        Assert.Equal("/home/someone/.cache/huggingface/hub", HubOptions.DefaultCacheDirectory(k => k == "HOME" ? "/home/someone" : null));
        var bad = Assert.Throws<BadInputException>(() => HubOptions.FromEnvironment(k => k == "HF_ENDPOINT" ? "ftp://x" : null));
        Assert.Contains("HF_ENDPOINT", bad.Message);
    }

    [Fact]
    public void The_catalog_names_every_published_Web_SSL_checkpoint_and_small_GGUF_LLMs()
    {
        string[] expected =
        [
            "webssl-dino300m-full2b-224", "webssl-dino1b-full2b-224", "webssl-dino2b-full2b-224", "webssl-dino3b-full2b-224",
            "webssl-dino5b-full2b-224", "webssl-dino7b-full8b-224", "webssl-dino7b-full8b-378", "webssl-dino7b-full8b-518",
            "webssl-dino2b-light2b-224", "webssl-dino2b-heavy2b-224", "webssl-dino3b-light2b-224", "webssl-dino3b-heavy2b-224",
            "webssl-mae300m-full2b-224", "webssl-mae700m-full2b-224", "webssl-mae1b-full2b-224", "webssl-mae2b-full2b-224", "webssl-mae3b-full2b-224",
        ];
        foreach (string name in expected)
        {
            CatalogEntry entry = ModelCatalog.Find(name) ?? throw new Xunit.Sdk.XunitException($"{name} missing");
            Assert.Equal("facebook/" + name, entry.Repo);
            Assert.Equal(ModelKind.Encoder, entry.Kind);
        }
        Assert.All(ModelCatalog.Entries.Where(e => e.Kind == ModelKind.Llm), e => Assert.EndsWith(".gguf", e.File));
        Assert.Same(ModelCatalog.Find("webssl-dino7b-full8b-518"), ModelCatalog.Find("facebook/webssl-dino7b-full8b-518"));
    }

    [Fact]
    public async Task List_finds_encoders_and_GGUFs_in_the_cache_and_adapters_encoders_and_GGUFs_in_folders()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        world.PublishShardedEncoder();
        world.Hub.Add("Qwen/Qwen2.5-0.5B-Instruct-GGUF", new Dictionary<string, byte[]> { ["qwen2.5-0.5b-instruct-q8_0.gguf"] = new byte[2048] });
        using HubClient client = world.Client();
        await new ModelPuller(client).PullAsync(HubWorld.Dino);
        await new ModelPuller(client).PullAsync("qwen2.5-0.5b-instruct");
        string models = world.Temp.Sub("models");
        Directory.CreateDirectory(Path.Combine(models, "adapters", "charts"));
        File.WriteAllText(Path.Combine(models, "adapters", "charts", "adapter.json"), """{"projector": {"type": "mlp2x_gelu"}, "encoder": {"name": "webssl-dino300m-full2b-224"}}""");
        File.WriteAllBytes(Path.Combine(models, "mine.gguf"), new byte[100]);

        var found = LocalModels.Scan(client.Cache, [models, world.Temp.File("does-not-exist")]);

        LocalModel encoder = Assert.Single(found, m => m.Kind == ModelKind.Encoder);
        Assert.Equal(HubWorld.Dino, encoder.Name);
        Assert.StartsWith("dinov2, 2 layers, 32 wide", encoder.Detail);
        Assert.True(encoder.Bytes > 80_000);
        Assert.Contains(found, m => m.Kind == ModelKind.Llm && m.Name.EndsWith("qwen2.5-0.5b-instruct-q8_0.gguf", StringComparison.Ordinal) && m.Bytes == 2048);
        Assert.Contains(found, m => m.Kind == ModelKind.Llm && m.Name == Path.Combine("models", "mine.gguf"));
        LocalModel adapter = Assert.Single(found, m => m.Kind == ModelKind.Adapter);
        Assert.Equal("mlp2x_gelu for webssl-dino300m-full2b-224", adapter.Detail);
    }
}
