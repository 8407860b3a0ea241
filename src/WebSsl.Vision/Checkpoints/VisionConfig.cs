using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebSsl.Vision.Checkpoints;

/// <summary>The two Web-SSL families: Web-DINO (transformers' Dinov2Model) and Web-MAE (ViTModel).</summary>
public enum VisionArchitecture
{
    /// <summary><c>model_type: dinov2</c>.</summary>
    Dinov2,

    /// <summary><c>model_type: vit</c>.</summary>
    Vit,
}

/// <summary>
/// The fields of a HuggingFace <c>config.json</c> that determine the encoder's computation. Missing fields take the
/// transformers defaults of <c>Dinov2Config</c> / <c>ViTConfig</c>; values we cannot compute faithfully are refused.
/// </summary>
public sealed record VisionConfig
{
    public required VisionArchitecture Architecture { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }

    /// <summary>Width of the MLP's hidden layer (for SwiGLU: of each of the two halves of <c>weights_in</c>).</summary>
    public required int MlpHiddenSize { get; init; }

    public required int PatchSize { get; init; }

    /// <summary>The pretraining resolution; the position embeddings hold (ImageSize / PatchSize)^2 patch positions.</summary>
    public required int ImageSize { get; init; }

    public int NumChannels { get; init; } = 3;
    public required double LayerNormEps { get; init; }
    public bool QkvBias { get; init; } = true;

    /// <summary>transformers' activation name for the plain MLP: gelu (exact), gelu_new / gelu_pytorch_tanh, quick_gelu, relu, silu.</summary>
    public string HiddenAct { get; init; } = "gelu";

    /// <summary>Web-DINO's SwiGLU feed-forward (<c>mlp.weights_in</c>/<c>mlp.weights_out</c>) instead of <c>fc1</c>/<c>fc2</c>.</summary>
    public bool UseSwiGluFfn { get; init; }

    /// <summary>Dinov2 has layer scale (<c>layer_scale{1,2}.lambda1</c>); ViT does not.</summary>
    public bool UseLayerScale => Architecture == VisionArchitecture.Dinov2;

    /// <summary>Whether <c>embeddings.mask_token</c> exists (Dinov2: config <c>use_mask_token</c>, default true).</summary>
    public bool UseMaskToken { get; init; }

    /// <summary>The checkpoint's declared storage type (<c>torch_dtype</c> or <c>dtype</c>), if any.</summary>
    public string? TorchDtype { get; init; }

    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Patch positions per side at the pretraining resolution.</summary>
    public int PositionGrid => ImageSize / PatchSize;

    /// <summary>Hash of the canonical (key-sorted) config.json: identifies the encoder in adapter manifests.</summary>
    public required string ConfigHash { get; init; }

    private static readonly HashSet<string> SupportedActivations = ["gelu", "gelu_new", "gelu_pytorch_tanh", "quick_gelu", "relu", "silu", "swish"];

    /// <summary>Parses config.json text. <paramref name="path"/> is only used in error messages.</summary>
    public static VisionConfig Parse(string json, string path)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new CheckpointException(path, null, "config.json must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, null, $"config.json is not valid JSON ({e.Message}).", e);
        }
        var reader = new ConfigReader(root, path);
        string modelType = reader.String("model_type", null)
            ?? throw new CheckpointException(path, "model_type", "missing; expected \"dinov2\" (Web-DINO) or \"vit\" (Web-MAE).");
        VisionArchitecture architecture = modelType switch
        {
            "dinov2" => VisionArchitecture.Dinov2,
            "vit" => VisionArchitecture.Vit,
            "dinov2_with_registers" => throw new CheckpointException(path, "model_type", "dinov2_with_registers (register tokens) is not supported; Web-SSL checkpoints use \"dinov2\"."),
            _ => throw new CheckpointException(path, "model_type", $"\"{modelType}\" is not supported; expected \"dinov2\" (Web-DINO) or \"vit\" (Web-MAE)."),
        };
        bool dino = architecture == VisionArchitecture.Dinov2;

        int hidden = reader.PositiveInt("hidden_size", 768);
        int layers = reader.PositiveInt("num_hidden_layers", 12);
        int heads = reader.PositiveInt("num_attention_heads", 12);
        if (hidden % heads != 0)
        {
            throw new CheckpointException(path, "num_attention_heads", $"hidden_size {hidden} is not a multiple of num_attention_heads {heads}.");
        }
        int patch = reader.SquareInt("patch_size", dino ? 14 : 16);
        int image = reader.SquareInt("image_size", 224);
        if (image % patch != 0)
        {
            throw new CheckpointException(path, "image_size", $"image_size {image} is not a multiple of patch_size {patch}.");
        }
        int channels = reader.PositiveInt("num_channels", 3);
        string act = reader.String("hidden_act", "gelu")!;
        if (!SupportedActivations.Contains(act))
        {
            throw new CheckpointException(path, "hidden_act", $"activation \"{act}\" is not supported (supported: {string.Join(", ", SupportedActivations)}).");
        }
        if (dino && reader.Int("num_register_tokens", 0) != 0)
        {
            throw new CheckpointException(path, "num_register_tokens", "register tokens are not supported by model_type dinov2.");
        }
        if (!dino && reader.Bool("use_mask_token", false))
        {
            // ViTModel only creates mask_token when asked to at construction; a config flag we would silently ignore.
            throw new CheckpointException(path, "use_mask_token", "masked ViT embeddings are not supported for model_type vit.");
        }

        bool swiglu = dino && reader.Bool("use_swiglu_ffn", false);
        int mlpHidden;
        if (dino)
        {
            double ratio = reader.Double("mlp_ratio", 4.0);
            int plain = (int)(hidden * ratio);
            // transformers' Dinov2SwiGLUFFN: hidden_features = (int(hidden_features * 2 / 3) + 7) // 8 * 8
            mlpHidden = swiglu ? ((int)(plain * 2.0 / 3.0) + 7) / 8 * 8 : plain;
        }
        else
        {
            mlpHidden = reader.PositiveInt("intermediate_size", 3072);
        }

        return new VisionConfig
        {
            Architecture = architecture,
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            MlpHiddenSize = mlpHidden,
            PatchSize = patch,
            ImageSize = image,
            NumChannels = channels,
            LayerNormEps = reader.Double("layer_norm_eps", dino ? 1e-6 : 1e-12),
            QkvBias = reader.Bool("qkv_bias", true),
            HiddenAct = act,
            UseSwiGluFfn = swiglu,
            UseMaskToken = dino && reader.Bool("use_mask_token", true),
            TorchDtype = reader.String("torch_dtype", null) ?? reader.String("dtype", null),
            ConfigHash = CanonicalHash(root),
        };
    }

    /// <summary>Reads <c>config.json</c> from a checkpoint folder.</summary>
    public static VisionConfig Load(string configPath)
    {
        if (!File.Exists(configPath))
        {
            throw new CheckpointException(configPath, null, "config.json not found; a HuggingFace checkpoint folder has config.json next to its weights.");
        }
        return Parse(File.ReadAllText(configPath), configPath);
    }

    /// <summary>Writes this config as a transformers-compatible config.json (used by the fixture generator).</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["model_type"] = Architecture == VisionArchitecture.Dinov2 ? "dinov2" : "vit",
            ["architectures"] = new JsonArray(Architecture == VisionArchitecture.Dinov2 ? "Dinov2Model" : "ViTModel"),
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["patch_size"] = PatchSize,
            ["image_size"] = ImageSize,
            ["num_channels"] = NumChannels,
            ["layer_norm_eps"] = LayerNormEps,
            ["qkv_bias"] = QkvBias,
            ["hidden_act"] = HiddenAct,
            ["hidden_dropout_prob"] = 0.0,
            ["attention_probs_dropout_prob"] = 0.0,
            ["initializer_range"] = 0.02,
        };
        if (Architecture == VisionArchitecture.Dinov2)
        {
            json["mlp_ratio"] = 4.0;
            json["use_swiglu_ffn"] = UseSwiGluFfn;
            json["layerscale_value"] = 1.0;
            json["drop_path_rate"] = 0.0;
            json["use_mask_token"] = UseMaskToken;
        }
        else
        {
            json["intermediate_size"] = MlpHiddenSize;
            json["encoder_stride"] = PatchSize;
        }
        if (TorchDtype is not null)
        {
            json["torch_dtype"] = TorchDtype;
        }
        return json;
    }

    private static string CanonicalHash(JsonNode root)
    {
        string canonical = Canonicalize(root)?.ToJsonString() ?? "null";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static JsonNode? Canonicalize(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Canonicalize(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Canonicalize).ToArray()),
        null => null,
        _ => JsonNode.Parse(node.ToJsonString()),
    };

    /// <summary>Typed access to config fields with errors that name the field and the expected type.</summary>
    private sealed class ConfigReader(JsonObject root, string path)
    {
        public string? String(string key, string? fallback)
        {
            JsonNode? node = root[key];
            if (node is null)
            {
                return fallback;
            }
            return node.GetValueKind() == JsonValueKind.String
                ? node.GetValue<string>()
                : throw new CheckpointException(path, key, $"expected a string, found {node.ToJsonString()}.");
        }

        public bool Bool(string key, bool fallback)
        {
            JsonNode? node = root[key];
            return node?.GetValueKind() switch
            {
                null or JsonValueKind.Null => fallback,
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new CheckpointException(path, key, $"expected true or false, found {node.ToJsonString()}."),
            };
        }

        public double Double(string key, double fallback)
        {
            JsonNode? node = root[key];
            if (node is null || node.GetValueKind() == JsonValueKind.Null)
            {
                return fallback;
            }
            return node.GetValueKind() == JsonValueKind.Number
                ? node.GetValue<double>()
                : throw new CheckpointException(path, key, $"expected a number, found {node.ToJsonString()}.");
        }

        public int Int(string key, int fallback)
        {
            double value = Double(key, fallback);
            return value == Math.Floor(value) && value is >= int.MinValue and <= int.MaxValue
                ? (int)value
                : throw new CheckpointException(path, key, $"expected an integer, found {value}.");
        }

        public int PositiveInt(string key, int fallback)
        {
            int value = Int(key, fallback);
            return value > 0 ? value : throw new CheckpointException(path, key, $"expected a positive integer, found {value}.");
        }

        /// <summary>An int, or a two-element array of equal ints (transformers accepts both for image and patch sizes).</summary>
        public int SquareInt(string key, int fallback)
        {
            if (root[key] is JsonArray array)
            {
                if (array.Count == 2 && array[0]?.GetValueKind() == JsonValueKind.Number && array[1]?.GetValueKind() == JsonValueKind.Number
                    && array[0]!.GetValue<double>() == array[1]!.GetValue<double>() && array[0]!.GetValue<double>() > 0)
                {
                    return (int)array[0]!.GetValue<double>();
                }
                throw new CheckpointException(path, key, $"only square sizes are supported, found {array.ToJsonString()}.");
            }
            return PositiveInt(key, fallback);
        }
    }
}
