namespace WebSsl.Vision.Images;

/// <summary>How many images a process decodes at once, and how many wait for their turn.</summary>
public sealed record ImageDecodeOptions
{
    /// <summary>
    /// Decodes running at once. Decoding is CPU-bound, so more than the cores gains nothing, and each decode of an image
    /// at <see cref="ImageLimits.MaxPixels"/> holds <see cref="BytesPerPixel"/> bytes per pixel until it is done.
    /// </summary>
    public int MaxConcurrent { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 2);

    /// <summary>Decodes that may wait for a turn; one more is refused at once as busy.</summary>
    public int MaxWaiting { get; init; } = 16;

    /// <summary>Longest wait for a turn before the decode is refused as busy.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Memory one decode holds per pixel: the RGBA32 frame, then the RGB24 copy made from it.</summary>
    public const int BytesPerPixel = 7;

    /// <summary>The most memory decoding can hold at once under these settings and <paramref name="limits"/>.</summary>
    public long PeakBytes(ImageLimits limits) => MaxConcurrent * limits.MaxPixels * BytesPerPixel;
}

/// <summary>Too many images are being decoded or waiting: not the image's fault; try again shortly.</summary>
public sealed class ImageDecodeBusyException(string source, string detail) : WebSslException(ProblemKind.Busy, "busy", $"{source}: {detail}");

/// <summary>
/// Bounds the images decoded at once in a process: a page-sized image takes hundreds of megabytes for the moment it is
/// decoded, so N simultaneous uploads or questions would otherwise take N times that. Callers wait their turn in a
/// bounded queue; past it, or after <see cref="ImageDecodeOptions.MaxWait"/>, they get <see cref="ImageDecodeBusyException"/>.
/// </summary>
public sealed class ImageDecodeGate(ImageDecodeOptions options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.MaxConcurrent, options.MaxConcurrent);
    private int _admitted;
    private int _running;
    private int _peak;
    private long _refused;

    public ImageDecodeOptions Options { get; } = options;

    /// <summary>Decodes running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Decodes waiting for a turn now.</summary>
    public int Waiting => Math.Max(0, Volatile.Read(ref _admitted) - Running);

    /// <summary>The most decodes that ever ran at once.</summary>
    public int PeakRunning => Volatile.Read(ref _peak);

    /// <summary>Decodes refused as busy so far.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Runs <paramref name="decode"/> (on the thread pool) when a turn is free; <paramref name="source"/> names the image in errors.</summary>
    public Task<T> RunAsync<T>(string source, Func<T> decode, CancellationToken cancellationToken = default) =>
        RunAsync(source, () => Task.Run(decode, cancellationToken), cancellationToken);

    /// <summary>Runs <paramref name="work"/> (a PDF render, which waits on its renderer process) when a turn is free, holding the turn until it ends.</summary>
    public async Task<T> RunAsync<T>(string source, Func<Task<T>> work, CancellationToken cancellationToken = default)
    {
        try
        {
            // Admitted = running + waiting; one past the bound is refused without waiting at all.
            if (Interlocked.Increment(ref _admitted) > Options.MaxConcurrent + Options.MaxWaiting)
            {
                throw Busy(source, $"{Options.MaxConcurrent} images are being decoded and {Options.MaxWaiting} are waiting");
            }
            if (!await _slots.WaitAsync(Options.MaxWait, cancellationToken).ConfigureAwait(false))
            {
                throw Busy(source, $"no decode turn came within {Options.MaxWait.TotalSeconds:0.#} s");
            }
            try
            {
                int running = Interlocked.Increment(ref _running);
                for (int peak = _peak; running > peak && Interlocked.CompareExchange(ref _peak, running, peak) != peak; peak = _peak)
                {
                }
                return await work().ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
                _slots.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _admitted);
        }
    }

    private ImageDecodeBusyException Busy(string source, string why)
    {
        Interlocked.Increment(ref _refused);
        return new ImageDecodeBusyException(source, $"the server is busy decoding images ({why}); try again shortly.");
    }

    public void Dispose() => _slots.Dispose();
}
