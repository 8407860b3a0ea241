using WebSsl.Vision.Checkpoints;
using static TorchSharp.torch;

namespace WebSsl.Vision.Tests.Reference;

/// <summary>
/// An obviously-correct, slow implementation of transformers' Dinov2Model / ViTModel forward pass: plain loops in double
/// precision over weights read by checkpoint key. It shares nothing with the TorchSharp model but the config parser, so
/// agreement between the two checks module naming, weight loading, and every step of the math.
/// </summary>
internal sealed class ReferenceVisionTransformer
{
    private readonly VisionConfig _config;
    private readonly Dictionary<string, (double[] Values, long[] Shape)> _weights = new(StringComparer.Ordinal);

    public ReferenceVisionTransformer(string checkpointDirectory)
    {
        using VisionCheckpoint checkpoint = VisionCheckpoint.Open(checkpointDirectory);
        _config = checkpoint.Config;
        foreach (var (name, stored) in checkpoint.Tensors)
        {
            using Tensor tensor = stored.File.Read(stored.Info.Name);
            using Tensor asDouble = tensor.to(ScalarType.Float64);
            _weights[name] = (asDouble.data<double>().ToArray(), stored.Info.Shape);
        }
    }

    /// <summary>Hidden states (index 0 = embeddings, i = after block i) and last_hidden_state for one image [C, H, W].</summary>
    public (List<double[,]> HiddenStates, double[,] LastHiddenState) Forward(double[,,] pixels)
    {
        var hidden = new List<double[,]>();
        double[,] x = Embeddings(pixels);
        hidden.Add(x);
        for (int layer = 0; layer < _config.NumHiddenLayers; layer++)
        {
            x = _config.Architecture == VisionArchitecture.Dinov2 ? Dinov2Layer(x, layer) : VitLayer(x, layer);
            hidden.Add(x);
        }
        return (hidden, LayerNorm(x, "layernorm"));
    }

    private double[,] Embeddings(double[,,] pixels)
    {
        int channels = pixels.GetLength(0), height = pixels.GetLength(1), width = pixels.GetLength(2);
        int p = _config.PatchSize, d = _config.HiddenSize;
        int rows = height / p, cols = width / p, tokens = rows * cols + 1;
        var (convWeight, _) = _weights["embeddings.patch_embeddings.projection.weight"];
        var (convBias, _) = _weights["embeddings.patch_embeddings.projection.bias"];
        var (cls, _) = _weights["embeddings.cls_token"];
        double[,] positions = Positions(rows, cols, height == width);

        var x = new double[tokens, d];
        for (int k = 0; k < d; k++)
        {
            x[0, k] = cls[k] + positions[0, k];
        }
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                int token = 1 + r * cols + c;
                for (int k = 0; k < d; k++)
                {
                    double sum = convBias[k];
                    for (int ch = 0; ch < channels; ch++)
                    {
                        for (int i = 0; i < p; i++)
                        {
                            for (int j = 0; j < p; j++)
                            {
                                sum += convWeight[((k * channels + ch) * p + i) * p + j] * pixels[ch, r * p + i, c * p + j];
                            }
                        }
                    }
                    x[token, k] = sum + positions[token, k];
                }
            }
        }
        return x;
    }

    /// <summary>Position embeddings for a rows x cols grid: stored ones when they fit a square input, else PyTorch bicubic.</summary>
    private double[,] Positions(int rows, int cols, bool square)
    {
        var (stored, shape) = _weights["embeddings.position_embeddings"];
        int d = _config.HiddenSize, grid = _config.PositionGrid;
        var result = new double[rows * cols + 1, d];
        for (int k = 0; k < d; k++)
        {
            result[0, k] = stored[k];
        }
        if (square && rows * cols == shape[1] - 1)
        {
            for (int t = 1; t < shape[1]; t++)
            {
                for (int k = 0; k < d; k++)
                {
                    result[t, k] = stored[t * d + k];
                }
            }
            return result;
        }
        for (int k = 0; k < d; k++)
        {
            int channel = k;
            double Source(int y, int x) => stored[(1 + Math.Clamp(y, 0, grid - 1) * grid + Math.Clamp(x, 0, grid - 1)) * d + channel];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    result[1 + r * cols + c, k] = Bicubic(Source, grid, grid, rows, cols, r, c);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// torch.nn.functional.interpolate(mode="bicubic", align_corners=False) at one output point: source coordinate
    /// (dst + 0.5) * in / out - 0.5 (not clamped), Keys cubic convolution with A = -0.75, border samples clamped.
    /// </summary>
    internal static double Bicubic(Func<int, int, double> source, int inRows, int inCols, int outRows, int outCols, int r, int c)
    {
        double sy = (r + 0.5) * inRows / outRows - 0.5, sx = (c + 0.5) * inCols / outCols - 0.5;
        int y0 = (int)Math.Floor(sy), x0 = (int)Math.Floor(sx);
        double[] wy = CubicWeights(sy - y0), wx = CubicWeights(sx - x0);
        double sum = 0;
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                sum += wy[i] * wx[j] * source(y0 - 1 + i, x0 - 1 + j);
            }
        }
        return sum;
    }

    private static double[] CubicWeights(double t)
    {
        const double A = -0.75;
        double Near(double x) => ((A + 2) * x - (A + 3)) * x * x + 1;          // |x| <= 1
        double Far(double x) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;      // 1 < |x| < 2
        return [Far(t + 1), Near(t), Near(1 - t), Far(2 - t)];
    }

    private double[,] Dinov2Layer(double[,] x, int layer)
    {
        string prefix = $"encoder.layer.{layer}.";
        double[,] attention = Attention(LayerNorm(x, prefix + "norm1"), prefix);
        double[,] afterAttention = AddScaled(x, attention, _weights[prefix + "layer_scale1.lambda1"].Values);
        double[,] normed = LayerNorm(afterAttention, prefix + "norm2");
        double[,] mlp = _config.UseSwiGluFfn
            ? SwiGlu(normed, prefix + "mlp.")
            : Dense(Map(Dense(normed, prefix + "mlp.fc1"), Gelu), prefix + "mlp.fc2");
        return AddScaled(afterAttention, mlp, _weights[prefix + "layer_scale2.lambda1"].Values);
    }

    private double[,] VitLayer(double[,] x, int layer)
    {
        string prefix = $"encoder.layer.{layer}.";
        double[,] afterAttention = AddScaled(x, Attention(LayerNorm(x, prefix + "layernorm_before"), prefix), null);
        double[,] mlp = Dense(Map(Dense(LayerNorm(afterAttention, prefix + "layernorm_after"), prefix + "intermediate.dense"), Gelu), prefix + "output.dense");
        return AddScaled(afterAttention, mlp, null);
    }

    private double[,] Attention(double[,] x, string prefix)
    {
        double[,] q = Dense(x, prefix + "attention.attention.query");
        double[,] k = Dense(x, prefix + "attention.attention.key");
        double[,] v = Dense(x, prefix + "attention.attention.value");
        int tokens = x.GetLength(0), heads = _config.NumAttentionHeads, hd = _config.HeadDim;
        var context = new double[tokens, _config.HiddenSize];
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < tokens; i++)
            {
                var scores = new double[tokens];
                double max = double.NegativeInfinity;
                for (int j = 0; j < tokens; j++)
                {
                    double dot = 0;
                    for (int e = 0; e < hd; e++)
                    {
                        dot += q[i, h * hd + e] * k[j, h * hd + e];
                    }
                    scores[j] = dot / Math.Sqrt(hd);
                    max = Math.Max(max, scores[j]);
                }
                double total = 0;
                for (int j = 0; j < tokens; j++)
                {
                    scores[j] = Math.Exp(scores[j] - max);
                    total += scores[j];
                }
                for (int e = 0; e < hd; e++)
                {
                    double sum = 0;
                    for (int j = 0; j < tokens; j++)
                    {
                        sum += scores[j] / total * v[j, h * hd + e];
                    }
                    context[i, h * hd + e] = sum;
                }
            }
        }
        return Dense(context, prefix + "attention.output.dense");
    }

    private double[,] SwiGlu(double[,] x, string prefix)
    {
        double[,] inner = Dense(x, prefix + "weights_in");
        int tokens = inner.GetLength(0), half = inner.GetLength(1) / 2;
        var gated = new double[tokens, half];
        for (int t = 0; t < tokens; t++)
        {
            for (int i = 0; i < half; i++)
            {
                double a = inner[t, i];
                gated[t, i] = a / (1 + Math.Exp(-a)) * inner[t, half + i];
            }
        }
        return Dense(gated, prefix + "weights_out");
    }

    /// <summary>y = x W^T + b with W stored [out, in] as in nn.Linear.</summary>
    private double[,] Dense(double[,] x, string name)
    {
        var (weight, shape) = _weights[name + ".weight"];
        double[]? bias = _weights.TryGetValue(name + ".bias", out var b) ? b.Values : null;
        int outFeatures = (int)shape[0], inFeatures = (int)shape[1], tokens = x.GetLength(0);
        var y = new double[tokens, outFeatures];
        for (int t = 0; t < tokens; t++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = bias?[o] ?? 0;
                for (int i = 0; i < inFeatures; i++)
                {
                    sum += x[t, i] * weight[o * inFeatures + i];
                }
                y[t, o] = sum;
            }
        }
        return y;
    }

    private double[,] LayerNorm(double[,] x, string name)
    {
        double[] weight = _weights[name + ".weight"].Values, bias = _weights[name + ".bias"].Values;
        int tokens = x.GetLength(0), d = x.GetLength(1);
        var y = new double[tokens, d];
        for (int t = 0; t < tokens; t++)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < d; i++)
            {
                mean += x[t, i];
            }
            mean /= d;
            for (int i = 0; i < d; i++)
            {
                variance += (x[t, i] - mean) * (x[t, i] - mean);
            }
            variance /= d;
            for (int i = 0; i < d; i++)
            {
                y[t, i] = (x[t, i] - mean) / Math.Sqrt(variance + _config.LayerNormEps) * weight[i] + bias[i];
            }
        }
        return y;
    }

    private static double[,] AddScaled(double[,] residual, double[,] branch, double[]? scale)
    {
        var y = (double[,])residual.Clone();
        for (int t = 0; t < y.GetLength(0); t++)
        {
            for (int i = 0; i < y.GetLength(1); i++)
            {
                y[t, i] += branch[t, i] * (scale?[i] ?? 1.0);
            }
        }
        return y;
    }

    private static double[,] Map(double[,] x, Func<double, double> f)
    {
        var y = new double[x.GetLength(0), x.GetLength(1)];
        for (int t = 0; t < y.GetLength(0); t++)
        {
            for (int i = 0; i < y.GetLength(1); i++)
            {
                y[t, i] = f(x[t, i]);
            }
        }
        return y;
    }

    /// <summary>Exact GELU, x * Phi(x), with erf from its all-positive series (no cancellation, double accuracy for |x| &lt; 6).</summary>
    internal static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    internal static double Erf(double x)
    {
        if (Math.Abs(x) >= 6)
        {
            return Math.Sign(x);
        }
        // erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (2n+1)!!
        double term = x, sum = x;
        for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
        {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }
}
