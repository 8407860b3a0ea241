using WebSsl.Vision.Images;

namespace WebSsl.Vision.Tests.Images;

/// <summary>The bound on images decoded at once: a turn each, a bounded queue, a bounded wait, cancellation.</summary>
public sealed class ImageDecodeGateTests
{
    [Fact]
    public async Task Decodes_past_the_concurrency_wait_and_past_the_queue_are_refused_at_once()
    {
        using var gate = new ImageDecodeGate(new ImageDecodeOptions { MaxConcurrent = 1, MaxWaiting = 1 });
        using var release = new ManualResetEventSlim();
        Task<int> running = gate.RunAsync("a.png", () => release.Wait(TimeSpan.FromMinutes(1)) ? 1 : 0);
        await WaitUntil(() => gate.Running == 1);
        Task<int> waiting = gate.RunAsync("b.png", () => 2);
        await WaitUntil(() => gate.Waiting == 1);

        var busy = await Assert.ThrowsAsync<ImageDecodeBusyException>(() => gate.RunAsync("c.png", () => 3));
        Assert.StartsWith("c.png: the server is busy decoding images", busy.Message);

        release.Set();
        Assert.Equal((1, 2), (await running, await waiting));
        Assert.Equal((1, 1L, 0, 0), (gate.PeakRunning, gate.Refused, gate.Running, gate.Waiting));
        Assert.Equal(4, await gate.RunAsync("d.png", () => 4));
    }

    [Fact]
    public async Task A_wait_ends_as_busy_after_the_longest_wait_or_when_cancelled_and_frees_its_place()
    {
        using var gate = new ImageDecodeGate(new ImageDecodeOptions { MaxConcurrent = 1, MaxWaiting = 1, MaxWait = TimeSpan.FromMilliseconds(200) });
        using var release = new ManualResetEventSlim();
        Task<int> running = gate.RunAsync("a.png", () => release.Wait(TimeSpan.FromMinutes(1)) ? 1 : 0);
        await WaitUntil(() => gate.Running == 1);

        var timedOut = await Assert.ThrowsAsync<ImageDecodeBusyException>(() => gate.RunAsync("b.png", () => 2));
        Assert.Contains("no decode turn came within 0.2 s", timedOut.Message);
        using var cancel = new CancellationTokenSource();
        Task<int> cancelled = gate.RunAsync("c.png", () => 3, cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(0, gate.Waiting);

        release.Set();
        Assert.Equal(1, await running);
        Assert.Equal(5, await gate.RunAsync("e.png", () => 5));
    }

    [Fact]
    public void The_memory_decoding_can_hold_follows_the_pixel_limit_and_the_concurrency()
    {
        var options = new ImageDecodeOptions { MaxConcurrent = 2 };
        Assert.Equal(2L * 36_000_000 * 7, options.PeakBytes(ImageLimits.Default));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition());
    }
}
