using System.Diagnostics;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Models;
using WebSsl.Vision.Runtime;
using static TorchSharp.torch;

namespace WebSsl.Vision.Benchmarks;

/// <summary>One encoder timing, with the SGEMM speed of the same process to compare against.</summary>
public sealed record EncoderBenchmarkResult(
    string Shape,
    long Parameters,
    int Resolution,
    int Tokens,
    int Batch,
    double GflopPerImage,
    double MillisecondsPerImage,
    double SgemmGflops)
{
    public double Gflops => GflopPerImage / (MillisecondsPerImage / 1000);

    /// <summary>Encoder GFLOP/s divided by SGEMM GFLOP/s: how close the forward pass runs to the matrix-multiply peak.</summary>
    public double Ratio => Gflops / SgemmGflops;
}

/// <summary>Times forward passes of random-weight encoders of the published shapes.</summary>
public static class EncoderBenchmark
{
    /// <summary>A model of <paramref name="config"/>'s shape filled with N(0, 0.02) weights (no checkpoint needed).</summary>
    public static VisionTransformer RandomModel(VisionConfig config, Device? device = null)
    {
        var model = new VisionTransformer(config, new ParameterFactory(device ?? CPU, ScalarType.Float32));
        using (no_grad())
        {
            foreach (var (_, parameter) in model.named_parameters())
            {
                parameter.normal_(0, 0.02);
            }
        }
        model.eval();
        return model;
    }

    /// <summary>
    /// Matrix-multiply FLOPs of one image (2 per multiply-add): patch projection, q/k/v/output projections, the two
    /// attention products, and the MLP. Norms, softmax and activations are not counted (the usual convention).
    /// </summary>
    public static double ForwardFlops(VisionConfig config, int height, int width)
    {
        double d = config.HiddenSize, h = config.MlpHiddenSize;
        double patches = (height / config.PatchSize) * (width / config.PatchSize), t = patches + 1;
        double patchProjection = 2 * patches * d * config.NumChannels * config.PatchSize * config.PatchSize;
        double attention = 2 * t * d * 3 * d + 2 * 2 * t * t * d + 2 * t * d * d;
        double mlp = config.UseSwiGluFfn ? 2 * t * d * 2 * h + 2 * t * h * d : 2 * 2 * t * d * h;
        return patchProjection + config.NumHiddenLayers * (attention + mlp);
    }

    /// <summary>SGEMM GFLOP/s of libtorch in this process: the best of several n x n x n float32 products.</summary>
    public static double MeasureSgemm(int n = 2048, int repeats = 5, Device? device = null)
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        Tensor a = randn(n, n, device: device), b = randn(n, n, device: device);
        mm(a, b).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            using Tensor c = mm(a, b);
            _ = c[0, 0].item<float>();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    /// <summary>Median milliseconds per image over <paramref name="iterations"/> forward passes after warm-up.</summary>
    public static EncoderBenchmarkResult Run(string shape, VisionConfig config, int resolution, int batch, int iterations, double sgemmGflops)
    {
        using VisionTransformer model = RandomModel(config);
        using var inference = inference_mode();
        using Tensor pixels = randn(batch, 3, resolution, resolution);
        var request = EncoderRequest.LastOnly;
        for (int i = 0; i < 2; i++)
        {
            model.Forward(pixels, request).Dispose();
        }
        var times = new List<double>();
        for (int i = 0; i < iterations; i++)
        {
            var watch = Stopwatch.StartNew();
            using EncoderOutput output = model.Forward(pixels, request);
            times.Add(watch.Elapsed.TotalMilliseconds / batch);
        }
        times.Sort();
        int grid = resolution / config.PatchSize;
        long parameters = model.parameters().Sum(p => p.numel());
        return new EncoderBenchmarkResult(shape, parameters, resolution, grid * grid + 1, batch,
            ForwardFlops(config, resolution, resolution) / 1e9, times[times.Count / 2], sgemmGflops);
    }
}
