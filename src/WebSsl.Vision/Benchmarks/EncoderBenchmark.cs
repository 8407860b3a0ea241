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
    double SgemmGflops,
    double Ratio,
    double GemmChainMilliseconds)
{
    public double Gflops => GflopPerImage / (MillisecondsPerImage / 1000);

    /// <summary>The encoder's own matrix multiplies, run back to back without anything else, as a share of the whole forward
    /// pass: how much of the time is GEMM at these shapes (the rest is attention, norms, activations, copies).</summary>
    public double GemmShare => GemmChainMilliseconds / MillisecondsPerImage;
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

    /// <summary>SGEMM GFLOP/s of libtorch in this process: the median of several n x n x n float32 products (the same statistic as the encoder's).</summary>
    public static double MeasureSgemm(int n = 2048, int repeats = 7, Device? device = null)
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        Tensor a = randn(n, n, device: device), b = randn(n, n, device: device);
        mm(a, b).Dispose();
        var seconds = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            using Tensor c = mm(a, b);
            _ = c[0, 0].item<float>();
            seconds.Add(watch.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / Median(seconds) / 1e9;
    }

    /// <summary>
    /// Median milliseconds per image over <paramref name="iterations"/> forward passes after warm-up. Each pass is paired with
    /// an SGEMM measurement taken just before it, and the reported ratio (encoder GFLOP/s / SGEMM GFLOP/s) is the median of
    /// the pairs: on a shared machine whose speed drifts, both sides of each ratio see the same conditions.
    /// </summary>
    public static EncoderBenchmarkResult Run(string shape, VisionConfig config, int resolution, int batch, int iterations)
    {
        using VisionTransformer model = RandomModel(config);
        using var inference = inference_mode();
        using Tensor pixels = randn(batch, 3, resolution, resolution);
        var request = EncoderRequest.LastOnly;
        // The first passes are slower (allocator and MKL buffers warming up); three are enough to reach the steady state.
        for (int i = 0; i < 3; i++)
        {
            model.Forward(pixels, request).Dispose();
        }
        double gflop = ForwardFlops(config, resolution, resolution) / 1e9;
        var times = new List<double>();
        var sgemms = new List<double>();
        var ratios = new List<double>();
        for (int i = 0; i < iterations; i++)
        {
            double sgemm = MeasureSgemm(repeats: 3);
            var watch = Stopwatch.StartNew();
            using EncoderOutput output = model.Forward(pixels, request);
            double milliseconds = watch.Elapsed.TotalMilliseconds / batch;
            times.Add(milliseconds);
            sgemms.Add(sgemm);
            ratios.Add(gflop / (milliseconds / 1000) / sgemm);
        }
        int grid = resolution / config.PatchSize;
        long parameters = model.parameters().Sum(p => p.numel());
        return new EncoderBenchmarkResult(shape, parameters, resolution, grid * grid + 1, batch, gflop, Median(times), Median(sgemms), Median(ratios),
            GemmChainMilliseconds(model, grid * grid + 1, batch, iterations) / batch);
    }

    /// <summary>Median time of every projection of the encoder blocks (fused q/k/v, output, MLP) on inputs of the forward pass's shape.</summary>
    private static double GemmChainMilliseconds(VisionTransformer model, int tokens, int batch, int iterations)
    {
        using var scope = NewDisposeScope();
        var gemms = new List<(Tensor Weight, Tensor? Bias, Tensor Input)>();
        foreach (var (name, module) in model.encoder.named_modules())
        {
            switch (module)
            {
                case VisionSelfAttention attention:
                    gemms.Add((attention.QkvWeight, attention.QkvBias, randn(batch, tokens, attention.QkvWeight.shape[1])));
                    break;
                case Linear linear when !name.EndsWith(".query", StringComparison.Ordinal) && !name.EndsWith(".key", StringComparison.Ordinal)
                                        && !name.EndsWith(".value", StringComparison.Ordinal): // views into the fused q/k/v
                    gemms.Add((linear.weight, linear.bias, randn(batch, tokens, linear.weight.shape[1])));
                    break;
            }
        }
        var times = new List<double>();
        for (int i = 0; i < iterations + 2; i++)
        {
            var watch = Stopwatch.StartNew();
            foreach (var (weight, bias, input) in gemms)
            {
                nn.functional.linear(input, weight, bias).Dispose();
            }
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return Median(times.Skip(2).ToList());
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

}
