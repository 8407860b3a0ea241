using TorchSharp.Modules;
using WebSsl.Vision.Checkpoints;
using F = TorchSharp.torch.nn.functional;
using static TorchSharp.torch;

namespace WebSsl.Vision.Models;

// The Web-SSL encoders as transformers defines them: Web-DINO = Dinov2Model, Web-MAE = ViTModel.
// Every module and field is named after its checkpoint key (embeddings.patch_embeddings.projection.weight,
// encoder.layer.3.attention.attention.query.bias, ...) so weights load one to one, and each forward mirrors the
// transformers code it is named after. Both models share embeddings, attention and the encoder stack; they differ in the
// block (Dinov2Layer with layer scale and optional SwiGLU, ViTLayer with a plain GELU MLP).

/// <summary>Which outputs a forward pass should produce; computing stops after the last block anything needs.</summary>
public sealed record EncoderRequest
{
    /// <summary>Produce <c>last_hidden_state</c> (final LayerNorm applied). Needs every block.</summary>
    public bool LastHiddenState { get; init; } = true;

    /// <summary>Indices into transformers' <c>hidden_states</c> tuple: 0 = embeddings, i = output of block i, negative from the end.</summary>
    public IReadOnlyList<int> HiddenStates { get; init; } = [];

    /// <summary>Every hidden state (embeddings and each block), before the final norm.</summary>
    public bool AllHiddenStates { get; init; }

    public static EncoderRequest LastOnly { get; } = new();
}

/// <summary>The results of one forward pass. Owns its tensors.</summary>
public sealed class EncoderOutput : IDisposable
{
    /// <summary>[B, T, D], final LayerNorm applied; null when not requested.</summary>
    public Tensor? LastHiddenState { get; init; }

    /// <summary>Hidden states before the final norm, keyed by their non-negative index in transformers' tuple.</summary>
    public IReadOnlyDictionary<int, Tensor> HiddenStates { get; init; } = new Dictionary<int, Tensor>();

    public void Dispose()
    {
        LastHiddenState?.Dispose();
        foreach (Tensor t in HiddenStates.Values)
        {
            t.Dispose();
        }
    }
}

/// <summary>Dinov2Model / ViTModel: embeddings, a stack of pre-norm blocks, and a final LayerNorm.</summary>
public sealed class VisionTransformer : nn.Module
{
    public VisionTransformer(VisionConfig config, ParameterFactory factory) : base(config.Architecture == VisionArchitecture.Dinov2 ? "Dinov2Model" : "ViTModel")
    {
        Config = config;
        Factory = factory;
        embeddings = new VisionEmbeddings(config, factory);
        encoder = new VisionEncoderStack(config, factory);
        layernorm = new LayerNorm(factory, config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    public VisionConfig Config { get; }

    public ParameterFactory Factory { get; }

    public readonly VisionEmbeddings embeddings;
    public readonly VisionEncoderStack encoder;
    public readonly LayerNorm layernorm;

    /// <summary>Keys a transformers checkpoint of this model may hold that take no part in the encoder's outputs.</summary>
    public IReadOnlyDictionary<string, long[]> UnusedCheckpointKeys => Config.Architecture == VisionArchitecture.Vit
        ? new Dictionary<string, long[]>
        {
            // ViTModel is saved with its pooler by default; Web-MAE's pooler is untrained and not part of the features.
            ["pooler.dense.weight"] = [Config.HiddenSize, Config.HiddenSize],
            ["pooler.dense.bias"] = [Config.HiddenSize],
        }
        : new Dictionary<string, long[]>();

    /// <summary>
    /// The tensors an optimizer should update when the encoder itself is trained: every parameter, with each attention's
    /// fused q/k/v matrix in place of the query/key/value views into it (the views then show the trained values), and
    /// without mask_token, which only masked-image pretraining uses.
    /// </summary>
    public IReadOnlyList<Parameter> TrainableTensors()
    {
        var tensors = named_parameters()
            .Where(p => !IsQkvView(p.name) && !p.name.EndsWith("mask_token", StringComparison.Ordinal))
            .Select(p => p.parameter)
            .ToList();
        foreach (VisionSelfAttention attention in modules().OfType<VisionSelfAttention>())
        {
            tensors.Add(attention.QkvWeight);
            if (attention.QkvBias is not null)
            {
                tensors.Add(attention.QkvBias);
            }
        }
        return tensors;

        static bool IsQkvView(string name) =>
            name.Contains(".attention.attention.query.", StringComparison.Ordinal) || name.Contains(".attention.attention.key.", StringComparison.Ordinal)
            || name.Contains(".attention.attention.value.", StringComparison.Ordinal);
    }

    /// <summary>Number of entries in transformers' hidden_states tuple: the embeddings plus one per block.</summary>
    public int HiddenStateCount => Config.NumHiddenLayers + 1;

    /// <summary>Maps a possibly negative hidden_states index to 0..NumHiddenLayers, or throws naming the valid range.</summary>
    public int NormalizeLayerIndex(int index)
    {
        int normalized = index < 0 ? HiddenStateCount + index : index;
        if (normalized < 0 || normalized >= HiddenStateCount)
        {
            throw new BadInputException(
                $"layer {index} does not exist: hidden_states has {HiddenStateCount} entries (0 = embeddings, {Config.NumHiddenLayers} = last block; negative counts from the end).");
        }
        return normalized;
    }

    /// <summary>pixel_values [B, C, H, W] (any H, W; positions are interpolated to the patch grid) to the requested outputs.</summary>
    public EncoderOutput Forward(Tensor pixelValues, EncoderRequest request)
    {
        if (pixelValues.dim() != 4 || pixelValues.shape[1] != Config.NumChannels)
        {
            throw new ArgumentException($"pixel_values must be [batch, {Config.NumChannels}, height, width], got [{string.Join(", ", pixelValues.shape)}].");
        }
        if (pixelValues.shape[2] < Config.PatchSize || pixelValues.shape[3] < Config.PatchSize)
        {
            throw new ArgumentException($"pixel_values {pixelValues.shape[2]}x{pixelValues.shape[3]} is smaller than one {Config.PatchSize}x{Config.PatchSize} patch.");
        }
        var wanted = new HashSet<int>(request.AllHiddenStates
            ? Enumerable.Range(0, HiddenStateCount)
            : request.HiddenStates.Select(NormalizeLayerIndex));
        int lastBlockNeeded = request.LastHiddenState ? Config.NumHiddenLayers : wanted.DefaultIfEmpty(0).Max();

        using var scope = NewDisposeScope();
        var kept = new Dictionary<int, Tensor>();
        Tensor hidden = embeddings.forward(pixelValues.to(Factory.DType, Factory.Device));
        if (wanted.Contains(0))
        {
            kept[0] = hidden;
        }
        for (int i = 0; i < lastBlockNeeded; i++)
        {
            hidden = encoder.layer[i].forward(hidden);
            if (wanted.Contains(i + 1))
            {
                kept[i + 1] = hidden;
            }
        }
        Tensor? last = request.LastHiddenState ? layernorm.forward(hidden) : null;
        return new EncoderOutput
        {
            LastHiddenState = last?.MoveToOuterDisposeScope(),
            HiddenStates = kept.ToDictionary(p => p.Key, p => p.Value.MoveToOuterDisposeScope()),
        };
    }
}

/// <summary>Dinov2Embeddings / ViTEmbeddings: [CLS] + patch embeddings + (interpolated) position embeddings.</summary>
public sealed class VisionEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly VisionConfig _config;

    public VisionEmbeddings(VisionConfig config, ParameterFactory factory) : base("Embeddings")
    {
        _config = config;
        int positions = config.PositionGrid * config.PositionGrid;
        cls_token = factory.Empty(1, 1, config.HiddenSize);
        mask_token = config.UseMaskToken ? factory.Empty(1, config.HiddenSize) : null;
        position_embeddings = factory.Empty(1, positions + 1, config.HiddenSize);
        patch_embeddings = new PatchEmbeddings(config, factory);
        RegisterComponents();
    }

    public readonly Parameter cls_token;

    /// <summary>Only used for masked-image pretraining; loaded so that the checkpoint is consumed exactly.</summary>
    public readonly Parameter? mask_token;

    public readonly Parameter position_embeddings;
    public readonly PatchEmbeddings patch_embeddings;

    public override Tensor forward(Tensor pixelValues)
    {
        long batch = pixelValues.shape[0], height = pixelValues.shape[2], width = pixelValues.shape[3];
        Tensor patches = patch_embeddings.forward(pixelValues);
        Tensor tokens = cat([cls_token.expand(batch, -1, -1), patches], dim: 1);
        return tokens + InterpolatePositionEncoding(tokens.shape[1] - 1, height, width);
    }

    /// <summary>
    /// transformers' interpolate_pos_encoding: the stored grid unchanged for a square input with as many patches, otherwise
    /// the patch positions resized bicubically (align_corners=False, no antialias, in float32) to exactly
    /// (height / patch, width / patch); the [CLS] position is kept.
    /// </summary>
    public Tensor InterpolatePositionEncoding(long patchCount, long height, long width)
    {
        long stored = position_embeddings.shape[1] - 1;
        if (patchCount == stored && height == width)
        {
            return position_embeddings;
        }
        long dim = position_embeddings.shape[2];
        long grid = _config.PositionGrid;
        long newHeight = height / _config.PatchSize, newWidth = width / _config.PatchSize;
        Tensor classPosition = position_embeddings[.., ..1];
        Tensor patchPositions = position_embeddings[.., 1..]
            .reshape(1, grid, grid, dim)
            .permute(0, 3, 1, 2)
            .to(ScalarType.Float32);
        Tensor resized = F.interpolate(patchPositions, size: [newHeight, newWidth], mode: InterpolationMode.Bicubic, align_corners: false)
            .to(position_embeddings.dtype)
            .permute(0, 2, 3, 1)
            .reshape(1, -1, dim);
        return cat([classPosition, resized], dim: 1);
    }
}

/// <summary>Dinov2PatchEmbeddings / ViTPatchEmbeddings: a strided convolution, flattened to [B, patches, D].</summary>
public sealed class PatchEmbeddings : nn.Module<Tensor, Tensor>
{
    public PatchEmbeddings(VisionConfig config, ParameterFactory factory) : base(nameof(PatchEmbeddings))
    {
        projection = new PatchConv2d(factory, config.NumChannels, config.HiddenSize, config.PatchSize);
        RegisterComponents();
    }

    public readonly PatchConv2d projection;

    public override Tensor forward(Tensor pixelValues) => projection.forward(pixelValues).flatten(2).transpose(1, 2);
}

/// <summary>
/// Dinov2SelfAttention / ViTSelfAttention. <c>query</c>, <c>key</c> and <c>value</c> are separate checkpoint tensors,
/// but their parameters are views into one [3D, D] matrix so that the forward pass is a single, larger GEMM.
/// </summary>
public sealed class VisionSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly int _heads;
    // Held in an array: TorchSharp registers Parameter-typed fields by reflection, and the fused matrix must not become a
    // checkpoint key of its own (query/key/value are).
    private readonly Parameter?[] _fused;
    private Parameter _qkvWeight => _fused[0]!;
    private Parameter? _qkvBias => _fused[1];

    public VisionSelfAttention(VisionConfig config, ParameterFactory factory) : base("SelfAttention")
    {
        _heads = config.NumAttentionHeads;
        long d = config.HiddenSize;
        _fused = [new Parameter(factory.Allocate(3 * d, d), requires_grad: false), config.QkvBias ? new Parameter(factory.Allocate(3 * d), requires_grad: false) : null];
        query = Slice(0);
        key = Slice(1);
        value = Slice(2);
        register_module(nameof(query), query);
        register_module(nameof(key), key);
        register_module(nameof(value), value);

        Linear Slice(int part) => new(
            new Parameter(_qkvWeight.narrow(0, part * d, d), requires_grad: false),
            _qkvBias is null ? null : new Parameter(_qkvBias.narrow(0, part * d, d), requires_grad: false));
    }

    public readonly Linear query;
    public readonly Linear key;
    public readonly Linear value;

    /// <summary>The fused [3D, D] projection that query, key and value are views of.</summary>
    public Parameter QkvWeight => _qkvWeight;

    public Parameter? QkvBias => _qkvBias;

    public override Tensor forward(Tensor hidden)
    {
        long batch = hidden.shape[0], tokens = hidden.shape[1], dim = hidden.shape[2];
        Tensor qkv = F.linear(hidden, _qkvWeight, _qkvBias)
            .view(batch, tokens, 3, _heads, dim / _heads)
            .permute(2, 0, 3, 1, 4);
        // softmax(q k^T / sqrt(head_dim)) v, the same scaling transformers uses.
        Tensor context = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]);
        return context.transpose(1, 2).reshape(batch, tokens, dim);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _qkvWeight.Dispose();
            _qkvBias?.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>Dinov2SelfOutput / ViTSelfOutput: the output projection (the residual is added by the block).</summary>
public sealed class VisionSelfOutput : nn.Module<Tensor, Tensor>
{
    public VisionSelfOutput(VisionConfig config, ParameterFactory factory) : base("SelfOutput")
    {
        dense = new Linear(factory, config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    public readonly Linear dense;

    public override Tensor forward(Tensor hidden) => dense.forward(hidden);
}

/// <summary>Dinov2Attention / ViTAttention.</summary>
public sealed class VisionAttention : nn.Module<Tensor, Tensor>
{
    public VisionAttention(VisionConfig config, ParameterFactory factory) : base("Attention")
    {
        attention = new VisionSelfAttention(config, factory);
        output = new VisionSelfOutput(config, factory);
        RegisterComponents();
    }

    public readonly VisionSelfAttention attention;
    public readonly VisionSelfOutput output;

    public override Tensor forward(Tensor hidden) => output.forward(attention.forward(hidden));
}

/// <summary>Dinov2LayerScale: per-channel scaling of a residual branch.</summary>
public sealed class LayerScale : nn.Module<Tensor, Tensor>
{
    public LayerScale(VisionConfig config, ParameterFactory factory) : base(nameof(LayerScale))
    {
        lambda1 = factory.Empty(config.HiddenSize);
        RegisterComponents();
    }

    public readonly Parameter lambda1;

    public override Tensor forward(Tensor hidden) => hidden * lambda1;

    /// <summary>residual + branch * lambda1 in one pass (the block's "drop_path(layer_scale(branch)) + residual" at inference).</summary>
    public Tensor AddScaled(Tensor residual, Tensor branch) => residual.addcmul(branch, lambda1, 1);
}

/// <summary>Dinov2SwiGLUFFN: weights_in [2H, D] split into x1, x2; weights_out(silu(x1) * x2).</summary>
public sealed class SwiGluFfn : nn.Module<Tensor, Tensor>
{
    public SwiGluFfn(VisionConfig config, ParameterFactory factory) : base("SwiGLUFFN")
    {
        weights_in = new Linear(factory, config.HiddenSize, 2L * config.MlpHiddenSize);
        weights_out = new Linear(factory, config.MlpHiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    public readonly Linear weights_in;
    public readonly Linear weights_out;

    public override Tensor forward(Tensor hidden)
    {
        Tensor[] halves = weights_in.forward(hidden).chunk(2, dim: -1);
        Tensor gate = F.silu(halves[0]);
        // In place when nothing is being differentiated (serving); autograd needs the gate's value for the product's gradient.
        return weights_out.forward(gate.requires_grad ? gate * halves[1] : gate.mul_(halves[1]));
    }
}

/// <summary>Dinov2MLP: fc1, activation, fc2.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly string _activation;

    public Mlp(VisionConfig config, ParameterFactory factory) : base("MLP")
    {
        _activation = config.HiddenAct;
        fc1 = new Linear(factory, config.HiddenSize, config.MlpHiddenSize);
        fc2 = new Linear(factory, config.MlpHiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    public readonly Linear fc1;
    public readonly Linear fc2;

    public override Tensor forward(Tensor hidden) => fc2.forward(Activations.Apply(_activation, fc1.forward(hidden)));
}

/// <summary>Dinov2Layer: x + ls1(attn(norm1(x))), then x + ls2(mlp(norm2(x))).</summary>
public sealed class Dinov2Layer : nn.Module<Tensor, Tensor>
{
    public Dinov2Layer(VisionConfig config, ParameterFactory factory) : base(nameof(Dinov2Layer))
    {
        norm1 = new LayerNorm(factory, config.HiddenSize, config.LayerNormEps);
        attention = new VisionAttention(config, factory);
        layer_scale1 = new LayerScale(config, factory);
        norm2 = new LayerNorm(factory, config.HiddenSize, config.LayerNormEps);
        mlp = config.UseSwiGluFfn ? new SwiGluFfn(config, factory) : new Mlp(config, factory);
        layer_scale2 = new LayerScale(config, factory);
        RegisterComponents();
    }

    public readonly LayerNorm norm1;
    public readonly VisionAttention attention;
    public readonly LayerScale layer_scale1;
    public readonly LayerNorm norm2;
    public readonly nn.Module<Tensor, Tensor> mlp;
    public readonly LayerScale layer_scale2;

    public override Tensor forward(Tensor hidden)
    {
        hidden = layer_scale1.AddScaled(hidden, attention.forward(norm1.forward(hidden)));
        return layer_scale2.AddScaled(hidden, mlp.forward(norm2.forward(hidden)));
    }
}

/// <summary>ViTIntermediate: dense then activation.</summary>
public sealed class VitIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly string _activation;

    public VitIntermediate(VisionConfig config, ParameterFactory factory) : base("ViTIntermediate")
    {
        _activation = config.HiddenAct;
        dense = new Linear(factory, config.HiddenSize, config.MlpHiddenSize);
        RegisterComponents();
    }

    public readonly Linear dense;

    public override Tensor forward(Tensor hidden) => Activations.Apply(_activation, dense.forward(hidden));
}

/// <summary>ViTOutput: dense back to the hidden size (the residual is added by the block).</summary>
public sealed class VitOutput : nn.Module<Tensor, Tensor>
{
    public VitOutput(VisionConfig config, ParameterFactory factory) : base("ViTOutput")
    {
        dense = new Linear(factory, config.MlpHiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    public readonly Linear dense;

    public override Tensor forward(Tensor hidden) => dense.forward(hidden);
}

/// <summary>ViTLayer: x + attn(layernorm_before(x)), then x + output(intermediate(layernorm_after(x))).</summary>
public sealed class VitLayer : nn.Module<Tensor, Tensor>
{
    public VitLayer(VisionConfig config, ParameterFactory factory) : base("ViTLayer")
    {
        layernorm_before = new LayerNorm(factory, config.HiddenSize, config.LayerNormEps);
        attention = new VisionAttention(config, factory);
        layernorm_after = new LayerNorm(factory, config.HiddenSize, config.LayerNormEps);
        intermediate = new VitIntermediate(config, factory);
        output = new VitOutput(config, factory);
        RegisterComponents();
    }

    public readonly LayerNorm layernorm_before;
    public readonly VisionAttention attention;
    public readonly LayerNorm layernorm_after;
    public readonly VitIntermediate intermediate;
    public readonly VitOutput output;

    public override Tensor forward(Tensor hidden)
    {
        // The branch outputs are fresh tensors, so the residual is added into them in place.
        hidden = attention.forward(layernorm_before.forward(hidden)).add_(hidden);
        return output.forward(intermediate.forward(layernorm_after.forward(hidden))).add_(hidden);
    }
}

/// <summary>Dinov2Encoder / ViTEncoder: the list of blocks, keyed <c>encoder.layer.{i}</c>.</summary>
public sealed class VisionEncoderStack : nn.Module
{
    public VisionEncoderStack(VisionConfig config, ParameterFactory factory) : base("Encoder")
    {
        layer = new TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            layer.Add(config.Architecture == VisionArchitecture.Dinov2 ? new Dinov2Layer(config, factory) : new VitLayer(config, factory));
        }
        RegisterComponents();
    }

    public readonly TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>> layer;
}

/// <summary>transformers' ACT2FN for the activations Web-SSL configs use.</summary>
internal static class Activations
{
    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "gelu" => F.gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" => F.gelu(x, GELU.Approximate.tanh),
        "quick_gelu" => x * F.sigmoid(1.702 * x),
        "relu" => F.relu(x),
        "silu" or "swish" => F.silu(x),
        _ => throw new NotSupportedException($"activation '{name}'"),
    };
}
