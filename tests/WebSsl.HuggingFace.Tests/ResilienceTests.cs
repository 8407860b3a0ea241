namespace WebSsl.HuggingFace.Tests;

public sealed class ResilienceTests
{
    private static (string Name, byte[] Content) BigFile(int length = 300_000)
    {
        byte[] content = new byte[length];
        new Random(42).NextBytes(content);
        return ("model.safetensors", content);
    }

    [Fact]
    public async Task A_connection_dropped_mid_file_resumes_with_Range_and_the_file_is_verified()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        (string name, byte[] content) = BigFile();
        world.Hub.Add("org/weights", new Dictionary<string, byte[]> { [name] = content });
        FakeHub.Faults faults = world.Hub.FaultsFor(name);
        faults.DropAfterBytes = 100_000;
        faults.DropTimes = 2;
        using HubClient client = world.Client();

        PulledFile pulled = await client.DownloadAsync("org/weights", name);

        Assert.Equal(content, File.ReadAllBytes(pulled.Path));
        var ranges = world.Hub.CdnRequests.Select(r => r.Range).ToList();
        Assert.Equal([null, "bytes=100000-", "bytes=200000-"], ranges);
        Assert.Equal(content.Length, world.Hub.BytesServed[name]); // every byte fetched once
    }

    [Fact]
    public async Task A_download_cancelled_midway_leaves_only_an_incomplete_file_and_the_next_pull_resumes_it()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        (string name, byte[] content) = BigFile(3_000_000);
        world.Hub.Add("org/weights", new Dictionary<string, byte[]> { [name] = content });
        using HubClient client = world.Client();
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Received >= 1_000_000)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DownloadAsync("org/weights", name, progress: progress, cancellationToken: cancel.Token));

        string blobs = Path.Combine(world.CacheDirectory, "models--org--weights", "blobs");
        string sha = FakeHub.Sha256(content);
        Assert.False(File.Exists(Path.Combine(blobs, sha)), "no file under the complete name");
        long partial = new FileInfo(Path.Combine(blobs, sha + ".incomplete")).Length;
        Assert.InRange(partial, 1_000_000, content.Length - 1);
        Assert.False(Directory.Exists(Path.Combine(world.CacheDirectory, "models--org--weights", "snapshots")), "no snapshot link to a partial file");

        PulledFile pulled = await client.DownloadAsync("org/weights", name);

        Assert.Equal(content, File.ReadAllBytes(pulled.Path));
        Assert.Equal($"bytes={partial}-", world.Hub.CdnRequests.Last().Range);
    }

    [Fact]
    public async Task A_corrupted_download_is_fetched_again_and_a_file_that_stays_corrupt_is_refused_and_removed()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        (string name, byte[] content) = BigFile();
        world.Hub.Add("org/weights", new Dictionary<string, byte[]> { [name] = content });
        using HubClient client = world.Client();

        world.Hub.FaultsFor(name).CorruptTimes = 1;
        PulledFile recovered = await client.DownloadAsync("org/weights", name);
        Assert.Equal(content, File.ReadAllBytes(recovered.Path));

        world.Hub.Add("org/other", new Dictionary<string, byte[]> { ["weights.bin"] = content });
        world.Hub.FaultsFor("weights.bin").CorruptTimes = 10;
        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("org/other", "weights.bin"));

        Assert.Equal(HubErrorKind.Corrupted, error.Kind);
        Assert.Contains("org/other/weights.bin", error.Message);
        Assert.Contains("SHA-256", error.Message);
        string repo = Path.Combine(world.CacheDirectory, "models--org--other");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(repo, "blobs"))); // neither a blob nor an .incomplete left
        Assert.False(Directory.Exists(Path.Combine(repo, "snapshots")));
    }

    [Fact]
    public async Task A_server_that_ignores_Range_restarts_the_file_and_server_errors_are_retried()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        (string name, byte[] content) = BigFile();
        world.Hub.Add("org/weights", new Dictionary<string, byte[]> { [name] = content });
        FakeHub.Faults faults = world.Hub.FaultsFor(name);
        faults.DropAfterBytes = 50_000;
        faults.DropTimes = 1;
        faults.IgnoreRange = true;
        faults.ServerErrors = 2;
        using HubClient client = world.Client();

        PulledFile pulled = await client.DownloadAsync("org/weights", name);

        Assert.Equal(content, File.ReadAllBytes(pulled.Path));
    }

    [Fact]
    public async Task A_hub_that_keeps_failing_gives_up_with_the_attempts_named()
    {
        await using HubWorld world = await HubWorld.StartAsync();
        (string name, byte[] content) = BigFile();
        world.Hub.Add("org/weights", new Dictionary<string, byte[]> { [name] = content });
        world.Hub.FaultsFor(name).ServerErrors = 100;
        using HubClient client = world.Client(world.Options with { MaxAttempts = 3 });

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("org/weights", name));

        Assert.Equal(HubErrorKind.Unavailable, error.Kind);
        Assert.Contains("503", error.Message);
        Assert.Contains("3 attempts", error.Message);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; the test needs the callback on the downloading thread.</summary>
    private sealed class SynchronousProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
