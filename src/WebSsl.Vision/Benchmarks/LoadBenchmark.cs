using System.Diagnostics;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Fixtures;

namespace WebSsl.Vision.Benchmarks;

/// <summary>Peak memory and time of loading a checkpoint, relative to its float32 weights.</summary>
public sealed record LoadBenchmarkResult(string Shape, SafetensorsDType Stored, long Parameters, long Float32Bytes, long BaselineBytes,
    long PeakBytes, TimeSpan LoadTime)
{
    /// <summary>Memory the load added at its peak, divided by the float32 weights it produced.</summary>
    public double PeakOverWeights => (double)(PeakBytes - BaselineBytes) / Float32Bytes;
}

public static class LoadBenchmark
{
    /// <summary>Writes a random checkpoint of <paramref name="shape"/> into <paramref name="directory"/> unless one is there.</summary>
    public static void EnsureCheckpoint(string directory, VisionConfig config, SafetensorsDType dtype)
    {
        if (File.Exists(Path.Combine(directory, VisionCheckpoint.ConfigFile)))
        {
            return;
        }
        CheckpointGenerator.Write(directory, config, new GeneratorOptions { DType = dtype, MaxShardBytes = 2L << 30 });
    }

    /// <summary>Loads the checkpoint on CPU in float32 with the peak-RSS counter reset just before.</summary>
    public static LoadBenchmarkResult Run(string shape, string directory)
    {
        // libtorch's own code and data are resident once it is used; count them in the baseline, not in the load.
        TorchSharp.torch.ones(1).Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long baseline = ProcessMemory.ResidentBytes ?? 0;
        if (!ProcessMemory.TryResetPeak())
        {
            throw new InvalidOperationException("cannot reset the peak-memory counter (/proc/self/clear_refs); run on Linux.");
        }
        var watch = Stopwatch.StartNew();
        using VisionEncoder encoder = VisionEncoder.Load(directory);
        TimeSpan elapsed = watch.Elapsed;
        long peak = ProcessMemory.PeakResidentBytes ?? 0;
        long parameters = encoder.Model.parameters().Sum(p => p.numel());
        using VisionCheckpoint checkpoint = VisionCheckpoint.Open(directory);
        return new LoadBenchmarkResult(shape, checkpoint.StoredDType, parameters, parameters * 4, baseline, peak, elapsed);
    }
}
