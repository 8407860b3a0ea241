using TorchSharp;
using WebSsl.Language.Gguf;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace WebSsl.Training.Llm;

/// <summary>The numbers that define a llama / qwen2 decoder, read from GGUF metadata.</summary>
public sealed record LlamaHyperparameters
{
    public required string Architecture { get; init; }
    public required int EmbeddingSize { get; init; }
    public required int BlockCount { get; init; }
    public required int HeadCount { get; init; }
    public required int HeadCountKv { get; init; }
    public required int FeedForwardLength { get; init; }
    public required float RmsEpsilon { get; init; }
    public required float RopeFreqBase { get; init; }

    /// <summary>Rotated dimensions per head (rope.dimension_count; the head size unless the model says otherwise).</summary>
    public required int RopeDimensions { get; init; }

    /// <summary>
    /// llama.cpp's rope type for the architecture: llama rotates adjacent pairs (2i, 2i+1) of its (converter-permuted)
    /// GGUF weights; qwen2 uses the NEOX form, pairs (i, i + d/2), on unpermuted weights.
    /// </summary>
    public required bool NeoxRope { get; init; }

    public int HeadDim => EmbeddingSize / HeadCount;

    public static readonly IReadOnlySet<string> Supported = new HashSet<string> { "llama", "qwen2" };

    public static LlamaHyperparameters From(GgufFile gguf)
    {
        string arch = gguf.Architecture;
        if (!Supported.Contains(arch))
        {
            throw new GgufException(gguf.Path, $"architecture '{arch}' has no TorchSharp implementation for training (supported: {string.Join(", ", Supported)}); it can still be served.");
        }
        // Rope variants llama.cpp applies that this copy does not: refuse them by name rather than train on a different model.
        if (gguf.Metadata.TryGetValue($"{arch}.rope.scaling.type", out object? scaling) && scaling is string type && type != "none")
        {
            throw new GgufException(gguf.Path, $"rope scaling '{type}' ({arch}.rope.scaling.type) is not implemented in the training copy.");
        }
        if (gguf.TensorsByName.ContainsKey("rope_freqs.weight"))
        {
            throw new GgufException(gguf.Path, "per-dimension rope frequency factors (rope_freqs.weight, Llama 3.1 style) are not implemented in the training copy.");
        }
        int embedding = (int)gguf.GetUInt32($"{arch}.embedding_length");
        int heads = (int)gguf.GetUInt32($"{arch}.attention.head_count");
        return new LlamaHyperparameters
        {
            Architecture = arch,
            EmbeddingSize = embedding,
            BlockCount = (int)gguf.GetUInt32($"{arch}.block_count"),
            HeadCount = heads,
            HeadCountKv = gguf.Has($"{arch}.attention.head_count_kv") ? (int)gguf.GetUInt32($"{arch}.attention.head_count_kv") : heads,
            FeedForwardLength = (int)gguf.GetUInt32($"{arch}.feed_forward_length"),
            RmsEpsilon = gguf.GetFloat32($"{arch}.attention.layer_norm_rms_epsilon"),
            RopeFreqBase = gguf.Has($"{arch}.rope.freq_base") ? gguf.GetFloat32($"{arch}.rope.freq_base") : 10000f,
            RopeDimensions = gguf.Has($"{arch}.rope.dimension_count") ? (int)gguf.GetUInt32($"{arch}.rope.dimension_count") : embedding / heads,
            NeoxRope = arch == "qwen2",
        };
    }
}

/// <summary>
/// A TorchSharp copy of a llama / qwen2 GGUF decoder, computing what llama.cpp computes from the same file:
/// token embedding lookup, pre-norm blocks (RMSNorm; attention with rope as llama.cpp applies it, GQA, qwen2's q/k/v
/// biases; SwiGLU FFN), final RMSNorm, output projection (token_embd when tied). Weights are float32, dequantized by ggml
/// itself. Frozen by default (gradients flow through the activations to the image embeddings fed in); <see cref="SetTrainable"/>
/// tunes the LLM too, and <see cref="SaveGguf"/> writes it back for llama.cpp.
/// Tensor names follow the GGUF ones (blk.N.attn_q.weight ...).
/// </summary>
public sealed class GgufLlama : IDisposable
{
    private readonly Dictionary<string, Tensor> _weights;
    private Tensor? _cos, _sin;

    private GgufLlama(LlamaHyperparameters hyper, Dictionary<string, Tensor> weights, Device device)
    {
        Hyper = hyper;
        _weights = weights;
        Device = device;
    }

    public LlamaHyperparameters Hyper { get; }

    public Device Device { get; }

    public int VocabularySize => (int)_weights["token_embd.weight"].shape[0];

    /// <summary>Bytes of float32 weights held.</summary>
    public long WeightBytes => _weights.Values.Sum(w => w.numel() * 4);

    /// <param name="hyper">Overrides the hyperparameters read from the file (tests use this to prove the check catches errors).</param>
    public static GgufLlama Load(GgufFile gguf, Device? device = null, LlamaHyperparameters? hyper = null)
    {
        hyper ??= LlamaHyperparameters.From(gguf);
        device ??= CPU;
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (GgufTensorInfo info in gguf.Tensors)
            {
                // ggml's ne[] is fastest-varying first; a PyTorch-style shape is the reverse.
                long[] shape = info.Dimensions.Reverse().ToArray();
                Tensor host = empty(shape, ScalarType.Float32);
                // Dequantized straight into the tensor's memory: the float32 copy is the only one ever held.
                GgmlDequantizer.ReadFloat32(gguf, info.Name, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(host.bytes));
                if (device.type != DeviceType.CPU)
                {
                    Tensor moved = host.to(device);
                    host.Dispose();
                    host = moved;
                }
                // A Parameter from the start: an optimizer takes Parameters, and wrapping later would empty this handle.
                weights[info.Name] = new TorchSharp.Modules.Parameter(host, requires_grad: false);
            }
            RequireShapes(gguf.Path, hyper, weights);
            return new GgufLlama(hyper, weights, device);
        }
        catch
        {
            foreach (Tensor w in weights.Values)
            {
                w.Dispose();
            }
            throw;
        }
    }

    /// <summary>The weights by GGUF tensor name (float32, PyTorch layout).</summary>
    public IReadOnlyDictionary<string, Tensor> Weights => _weights;

    /// <summary>Switches gradients for every weight on or off (stage-2 style tuning); returns the tensors to optimize.</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> SetTrainable(bool trainable)
    {
        foreach (Tensor w in _weights.Values)
        {
            w.requires_grad_(trainable);
        }
        return [.. _weights.Values.Cast<TorchSharp.Modules.Parameter>()];
    }

    /// <summary>
    /// Writes the (trained) weights as a GGUF that llama.cpp serves: <paramref name="source"/>'s metadata copied exactly
    /// (tokenizer, chat template, hyperparameters), every tensor in float32 under its GGUF name in ggml order, file type
    /// ALL_F32. Written whole, then renamed.
    /// </summary>
    public void SaveGguf(string path, GgufFile source, string? name = null)
    {
        var writer = new GgufWriter { Alignment = (int)(source.Has("general.alignment") ? source.GetUInt32("general.alignment") : (uint)GgufFile.DefaultAlignment) }
            .CopyMetadata(source)
            .Add("general.file_type", 0u);
        if (name is not null)
        {
            writer.Add("general.name", name);
        }
        foreach (GgufTensorInfo info in source.Tensors)
        {
            Tensor weight = _weights[info.Name];
            writer.AddTensor(info.Name, info.Dimensions.ToArray(), GgmlType.F32, () =>
            {
                using var scope = NewDisposeScope();
                return weight.detach().to(ScalarType.Float32, CPU).contiguous().data<float>().ToArray();
            });
        }
        writer.Write(path);
    }

    /// <summary>Token embeddings [.., d] for token ids.</summary>
    public Tensor Embed(Tensor tokens) => _weights["token_embd.weight"].index_select(0, tokens.flatten()).view([.. tokens.shape, Hyper.EmbeddingSize]);

    /// <summary>Final normed hidden states [B, T, d] for input embeddings [B, T, d] at positions 0..T-1 (causal).</summary>
    public Tensor Hidden(Tensor inputs)
    {
        long length = inputs.shape[1];
        Rope(length, out Tensor cos, out Tensor sin);
        Tensor x = inputs;
        for (int i = 0; i < Hyper.BlockCount; i++)
        {
            string p = $"blk.{i}.";
            x = x + Attention(RmsNorm(x, p + "attn_norm.weight"), p, cos, sin);
            x = x + FeedForward(RmsNorm(x, p + "ffn_norm.weight"), p);
        }
        return RmsNorm(x, "output_norm.weight");
    }

    /// <summary>Logits [.., vocab] from final hidden states.</summary>
    public Tensor Logits(Tensor hidden) =>
        F.linear(hidden, _weights.TryGetValue("output.weight", out Tensor? output) ? output : _weights["token_embd.weight"]);

    private Tensor RmsNorm(Tensor x, string weight) =>
        x * rsqrt(x.pow(2).mean([-1], keepdim: true) + Hyper.RmsEpsilon) * _weights[weight];

    private Tensor Linear(Tensor x, string name) =>
        F.linear(x, _weights[name + ".weight"], _weights.TryGetValue(name + ".bias", out Tensor? bias) ? bias : null);

    private Tensor Attention(Tensor x, string p, Tensor cos, Tensor sin)
    {
        long batch = x.shape[0], length = x.shape[1];
        int heads = Hyper.HeadCount, kvHeads = Hyper.HeadCountKv, hd = Hyper.HeadDim;
        Tensor q = ApplyRope(Linear(x, p + "attn_q").view(batch, length, heads, hd), cos, sin).transpose(1, 2);
        Tensor k = ApplyRope(Linear(x, p + "attn_k").view(batch, length, kvHeads, hd), cos, sin).transpose(1, 2);
        Tensor v = Linear(x, p + "attn_v").view(batch, length, kvHeads, hd).transpose(1, 2);
        if (kvHeads != heads)
        {
            // llama.cpp's broadcast: query head h reads key/value head h / (heads / kvHeads).
            k = k.repeat_interleave(heads / kvHeads, dim: 1);
            v = v.repeat_interleave(heads / kvHeads, dim: 1);
        }
        Tensor context = F.scaled_dot_product_attention(q, k, v, is_casual: true);
        return Linear(context.transpose(1, 2).reshape(batch, length, heads * hd), p + "attn_output");
    }

    private Tensor FeedForward(Tensor x, string p) =>
        Linear(F.silu(Linear(x, p + "ffn_gate")) * Linear(x, p + "ffn_up"), p + "ffn_down");

    /// <summary>Rotates the first RopeDimensions of each head: theta_i = position * base^(-2i/n_rot), in llama.cpp's pairing.</summary>
    private Tensor ApplyRope(Tensor x, Tensor cos, Tensor sin)
    {
        int rot = Hyper.RopeDimensions, half = rot / 2;
        Tensor rotated = x[.., .., .., ..rot];
        Tensor a, b;
        if (Hyper.NeoxRope)
        {
            a = rotated[.., .., .., ..half];
            b = rotated[.., .., .., half..];
        }
        else
        {
            Tensor pairs = rotated.reshape(rotated.shape[0], rotated.shape[1], rotated.shape[2], half, 2);
            a = pairs[.., .., .., .., 0];
            b = pairs[.., .., .., .., 1];
        }
        Tensor c = cos.view(1, -1, 1, half), s = sin.view(1, -1, 1, half);
        Tensor ra = a * c - b * s, rb = a * s + b * c;
        Tensor result = Hyper.NeoxRope ? cat([ra, rb], -1) : stack([ra, rb], -1).flatten(-2);
        return rot == Hyper.HeadDim ? result : cat([result, x[.., .., .., rot..]], -1);
    }

    /// <summary>cos/sin tables [T, n_rot/2] (cached, grown as needed), computed in float64 then rounded.</summary>
    private void Rope(long length, out Tensor cos, out Tensor sin)
    {
        if (_cos is null || _cos.shape[0] < length)
        {
            _cos?.Dispose();
            _sin?.Dispose();
            int half = Hyper.RopeDimensions / 2;
            long size = Math.Max(length, 256);
            using Tensor positions = arange(size, dtype: ScalarType.Float64).unsqueeze(1);
            using Tensor inverse = pow(Hyper.RopeFreqBase, arange(half, dtype: ScalarType.Float64) * (-2.0 / Hyper.RopeDimensions)).unsqueeze(0);
            using Tensor angles = positions * inverse;
            _cos = angles.cos().to(ScalarType.Float32).to(Device).DetachFromDisposeScope();
            _sin = angles.sin().to(ScalarType.Float32).to(Device).DetachFromDisposeScope();
        }
        cos = _cos![..(int)length];
        sin = _sin![..(int)length];
    }

    private static void RequireShapes(string path, LlamaHyperparameters h, Dictionary<string, Tensor> w)
    {
        int d = h.EmbeddingSize, kv = h.HeadCountKv * h.HeadDim, ff = h.FeedForwardLength;
        void Need(string name, params long[] shape)
        {
            if (!w.TryGetValue(name, out Tensor? t))
            {
                throw new GgufException(path, $"tensor '{name}' is missing.");
            }
            if (!t.shape.SequenceEqual(shape))
            {
                throw new GgufException(path, $"tensor '{name}' has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", shape)}].");
            }
        }
        long vocab = w.TryGetValue("token_embd.weight", out Tensor? e) ? e.shape[0] : 0;
        Need("token_embd.weight", vocab, d);
        Need("output_norm.weight", d);
        for (int i = 0; i < h.BlockCount; i++)
        {
            string p = $"blk.{i}.";
            Need(p + "attn_norm.weight", d);
            Need(p + "attn_q.weight", d, d);
            Need(p + "attn_k.weight", kv, d);
            Need(p + "attn_v.weight", kv, d);
            Need(p + "attn_output.weight", d, d);
            Need(p + "ffn_norm.weight", d);
            Need(p + "ffn_gate.weight", ff, d);
            Need(p + "ffn_up.weight", ff, d);
            Need(p + "ffn_down.weight", d, ff);
        }
    }

    public void Dispose()
    {
        foreach (Tensor w in _weights.Values)
        {
            w.Dispose();
        }
        _cos?.Dispose();
        _sin?.Dispose();
    }
}
