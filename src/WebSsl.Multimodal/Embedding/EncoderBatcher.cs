using System.Threading.Channels;
using WebSsl.Vision;
using static TorchSharp.torch;

namespace WebSsl.Multimodal.Embedding;

/// <summary>
/// Dynamic batching for the encoder: images that arrive together (within a short window) are encoded in one forward
/// pass, and no more than the configured number of passes run at once. Each caller gets its own features back.
/// </summary>
public sealed class EncoderBatcher : IAsyncDisposable
{
    private readonly VisionEncoder _encoder;
    private readonly FeatureSelection _selection;
    private readonly TimeSpan _window;
    private readonly int _maxBatch;
    private readonly Channel<Job> _jobs = Channel.CreateUnbounded<Job>();
    private readonly Task[] _workers;
    private long _passes;
    private long _images;

    public EncoderBatcher(VisionEncoder encoder, FeatureSelection selection, int parallelism, TimeSpan window, int maxBatch)
    {
        _encoder = encoder;
        _selection = selection;
        _window = window;
        _maxBatch = Math.Max(1, maxBatch);
        _workers = Enumerable.Range(0, Math.Max(1, parallelism)).Select(_ => Task.Factory.StartNew(Work, TaskCreationOptions.LongRunning).Unwrap()).ToArray();
    }

    /// <summary>Forward passes run so far.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>Images encoded so far.</summary>
    public long Images => Interlocked.Read(ref _images);

    /// <summary>Features [tokens, hidden] (float32, CPU) of pixel_values [3, H, W]; the caller owns the result.</summary>
    public Task<Tensor> EncodeAsync(Tensor pixels, CancellationToken cancellationToken = default)
    {
        var job = new Job(pixels, cancellationToken);
        if (!_jobs.Writer.TryWrite(job))
        {
            throw new ObjectDisposedException(nameof(EncoderBatcher));
        }
        return job.Result.Task;
    }

    private async Task Work()
    {
        var reader = _jobs.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (!reader.TryRead(out Job? first))
            {
                continue;
            }
            var batch = new List<Job> { first };
            using (var gather = new CancellationTokenSource(_window))
            {
                try
                {
                    while (batch.Count < _maxBatch && await reader.WaitToReadAsync(gather.Token).ConfigureAwait(false))
                    {
                        while (batch.Count < _maxBatch && reader.TryRead(out Job? next))
                        {
                            batch.Add(next);
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    // the window closed
                }
            }
            foreach (var group in batch.Where(j => !j.Cancellation.IsCancellationRequested).GroupBy(j => (j.Pixels.shape[1], j.Pixels.shape[2])))
            {
                Encode(group.ToList());
            }
            foreach (Job cancelled in batch.Where(j => j.Cancellation.IsCancellationRequested))
            {
                cancelled.Result.TrySetCanceled(cancelled.Cancellation);
            }
        }
    }

    private void Encode(List<Job> jobs)
    {
        try
        {
            using Tensor features = _encoder.EncodeFeatures(jobs.Select(j => j.Pixels).ToList(), _selection);
            Interlocked.Increment(ref _passes);
            Interlocked.Add(ref _images, jobs.Count);
            for (int i = 0; i < jobs.Count; i++)
            {
                jobs[i].Result.TrySetResult(features[i].clone());
            }
        }
        catch (Exception e)
        {
            jobs.ForEach(j => j.Result.TrySetException(e));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _jobs.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
    }

    private sealed record Job(Tensor Pixels, CancellationToken Cancellation)
    {
        public TaskCompletionSource<Tensor> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
