using System.Text.Json;
using System.Text.Json.Nodes;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Images;
using static TorchSharp.torch;

namespace WebSsl.Vision.Fixtures;

/// <summary>How a generated checkpoint is stored.</summary>
public sealed record GeneratorOptions
{
    public SafetensorsDType DType { get; init; } = SafetensorsDType.F32;

    /// <summary>Split into shards of at most this many bytes (with model.safetensors.index.json), as save_pretrained does; null = one file.</summary>
    public long? MaxShardBytes { get; init; }

    public int Seed { get; init; } = 1234;

    /// <summary>Write a preprocessor_config.json (BitImageProcessor form).</summary>
    public PreprocessorConfig? Preprocessor { get; init; }

    /// <summary>Key prefix of a checkpoint saved from a model with a head, e.g. "dinov2." (empty for a base model).</summary>
    public string KeyPrefix { get; init; } = "";

    /// <summary>Include ViTModel's pooler (saved by default by transformers for ViTModel).</summary>
    public bool VitPooler { get; init; } = true;

    /// <summary>
    /// Initialize for training from scratch (timm / DINOv2 style: linear weights ~ N(0, 0.02), biases 0, norms 1 and 0,
    /// tokens and positions ~ N(0, 0.02), layer scale 0.1) instead of the test values that make every part matter.
    /// </summary>
    public bool ForTraining { get; init; }
}

/// <summary>
/// Writes random-weight checkpoints in exactly the HuggingFace layout of Web-DINO (Dinov2Model) and Web-MAE (ViTModel):
/// config.json, safetensors (single or sharded with an index), optional preprocessor_config.json. The tensor names here
/// are spelled out from transformers' modeling files on purpose, independently of this project's module tree, so that
/// loading a generated checkpoint proves the C# modules mirror the real key names.
/// </summary>
public static class CheckpointGenerator
{
    /// <summary>The published Web-SSL shapes (and small ones for quick runs and tests), by short name.</summary>
    public static IReadOnlyDictionary<string, VisionConfig> Shapes { get; } = new Dictionary<string, VisionConfig>(StringComparer.OrdinalIgnoreCase)
    {
        ["tiny"] = Dino(32, 2, 4, 42, patch: 14, swiglu: true),
        ["tiny-mae"] = Vit(32, 2, 4, 128, image: 32, patch: 16),
        ["vit-s"] = Dino(384, 12, 6, 224),
        ["vit-b"] = Dino(768, 12, 12, 224),
        ["dino300m"] = Dino(1024, 24, 16, 224),
        ["dino1b"] = Dino(1536, 40, 24, 224),
        ["dino2b"] = Dino(2688, 24, 21, 224),
        ["dino3b"] = Dino(3072, 26, 24, 224),
        ["dino5b"] = Dino(3584, 32, 28, 224),
        ["dino7b"] = Dino(4096, 32, 32, 224),
        ["mae300m"] = Vit(1024, 24, 16, 4096, image: 224, patch: 16),
    };

    /// <summary>The config of a named shape, or an error listing the known names.</summary>
    public static VisionConfig Shape(string name) =>
        Shapes.TryGetValue(name, out VisionConfig? config)
            ? config
            : throw new BadInputException($"shape '{name}' is not known; use one of {string.Join(", ", Shapes.Keys)}.");

    public static VisionConfig Dino(int hidden, int layers, int heads, int image, int patch = 14, bool swiglu = true) =>
        Normalize(new JsonObject
        {
            ["model_type"] = "dinov2",
            ["hidden_size"] = hidden,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["mlp_ratio"] = 4.0,
            ["image_size"] = image,
            ["patch_size"] = patch,
            ["use_swiglu_ffn"] = swiglu,
            ["layer_norm_eps"] = 1e-6,
        });

    public static VisionConfig Vit(int hidden, int layers, int heads, int intermediate, int image, int patch) =>
        Normalize(new JsonObject
        {
            ["model_type"] = "vit",
            ["hidden_size"] = hidden,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["intermediate_size"] = intermediate,
            ["image_size"] = image,
            ["patch_size"] = patch,
            ["layer_norm_eps"] = 1e-6,
        });

    private static VisionConfig Normalize(JsonObject json) => VisionConfig.Parse(json.ToJsonString(), "<generated>");

    /// <summary>Every tensor of the checkpoint, in the order transformers' save_pretrained lists them.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> TensorLayout(VisionConfig config, bool vitPooler = true)
    {
        long d = config.HiddenSize, h = config.MlpHiddenSize, p = config.PatchSize, grid = config.PositionGrid;
        var tensors = new List<(string, long[])>
        {
            ("embeddings.cls_token", [1, 1, d]),
        };
        if (config.UseMaskToken)
        {
            tensors.Add(("embeddings.mask_token", [1, d]));
        }
        tensors.Add(("embeddings.position_embeddings", [1, grid * grid + 1, d]));
        tensors.Add(("embeddings.patch_embeddings.projection.weight", [d, config.NumChannels, p, p]));
        tensors.Add(("embeddings.patch_embeddings.projection.bias", [d]));
        bool dino = config.Architecture == VisionArchitecture.Dinov2;
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            string layer = $"encoder.layer.{i}.";
            void LinearKeys(string name, long outFeatures, long inFeatures, bool bias = true)
            {
                tensors.Add((layer + name + ".weight", [outFeatures, inFeatures]));
                if (bias)
                {
                    tensors.Add((layer + name + ".bias", [outFeatures]));
                }
            }
            void Norm(string name)
            {
                tensors.Add((layer + name + ".weight", [d]));
                tensors.Add((layer + name + ".bias", [d]));
            }
            Norm(dino ? "norm1" : "layernorm_before");
            LinearKeys("attention.attention.query", d, d, config.QkvBias);
            LinearKeys("attention.attention.key", d, d, config.QkvBias);
            LinearKeys("attention.attention.value", d, d, config.QkvBias);
            LinearKeys("attention.output.dense", d, d);
            if (dino)
            {
                tensors.Add((layer + "layer_scale1.lambda1", [d]));
                Norm("norm2");
                if (config.UseSwiGluFfn)
                {
                    LinearKeys("mlp.weights_in", 2 * h, d);
                    LinearKeys("mlp.weights_out", d, h);
                }
                else
                {
                    LinearKeys("mlp.fc1", h, d);
                    LinearKeys("mlp.fc2", d, h);
                }
                tensors.Add((layer + "layer_scale2.lambda1", [d]));
            }
            else
            {
                Norm("layernorm_after");
                LinearKeys("intermediate.dense", h, d);
                LinearKeys("output.dense", d, h);
            }
        }
        tensors.Add(("layernorm.weight", [d]));
        tensors.Add(("layernorm.bias", [d]));
        if (!dino && vitPooler)
        {
            tensors.Add(("pooler.dense.weight", [d, d]));
            tensors.Add(("pooler.dense.bias", [d]));
        }
        return tensors;
    }

    /// <summary>Writes a complete checkpoint folder. Weights are drawn per tensor from a seeded generator, so the same
    /// options give the same files, and a checkpoint larger than memory can be written.</summary>
    public static void Write(string directory, VisionConfig config, GeneratorOptions? options = null)
    {
        options ??= new GeneratorOptions();
        Directory.CreateDirectory(directory);
        var layout = TensorLayout(config, options.VitPooler)
            .Select(t => new TensorSpec(options.KeyPrefix + t.Name, options.DType, t.Shape))
            .ToList();
        Tensor Produce(TensorSpec spec) => options.ForTraining
            ? TrainingInitialWeight(spec.Name[options.KeyPrefix.Length..], spec.Shape, options.Seed)
            : RandomWeight(spec.Name[options.KeyPrefix.Length..], spec.Shape, config, options.Seed);

        JsonObject configJson = config.ToJson();
        configJson["torch_dtype"] = options.DType switch
        {
            SafetensorsDType.F16 => "float16",
            SafetensorsDType.BF16 => "bfloat16",
            _ => "float32",
        };
        File.WriteAllText(Path.Combine(directory, VisionCheckpoint.ConfigFile), configJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (options.Preprocessor is not null)
        {
            File.WriteAllText(Path.Combine(directory, VisionCheckpoint.PreprocessorFile),
                options.Preprocessor.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (options.MaxShardBytes is not long maxShard)
        {
            SafetensorsWriter.Write(Path.Combine(directory, VisionCheckpoint.SingleWeightsFile), layout, Produce, metadata);
            return;
        }
        var shards = new List<List<TensorSpec>> { new() };
        long current = 0;
        foreach (TensorSpec spec in layout)
        {
            if (current > 0 && current + spec.ByteLength > maxShard)
            {
                shards.Add([]);
                current = 0;
            }
            shards[^1].Add(spec);
            current += spec.ByteLength;
        }
        var weightMap = new JsonObject();
        for (int s = 0; s < shards.Count; s++)
        {
            string name = $"model-{s + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsWriter.Write(Path.Combine(directory, name), shards[s], Produce, metadata);
            foreach (TensorSpec spec in shards[s])
            {
                weightMap[spec.Name] = name;
            }
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = layout.Sum(t => t.ByteLength) },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(directory, VisionCheckpoint.IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Values with realistic magnitudes so every part of the forward pass matters in tests: linear weights ~ N(0, 1/in),
    /// norms near 1, layer scales around 0.5 (a real checkpoint's 1e-5 initial value would hide errors in the blocks).
    /// </summary>
    public static Tensor RandomWeight(string name, long[] shape, VisionConfig config, int seed)
    {
        var generator = new TorchSharp.torch.Generator((ulong)(seed * 1_000_003L + StableHash(name)));
        Tensor Normal(double std, double mean = 0) => normal(mean, std, shape.AsSpan(), generator: generator);
        if (name.EndsWith("lambda1", StringComparison.Ordinal))
        {
            return rand(shape, generator: generator) * 0.5 + 0.25;
        }
        if (name.Contains("norm", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal))
        {
            return Normal(0.1, 1.0);
        }
        if (name.EndsWith(".bias", StringComparison.Ordinal) || name.EndsWith("_token", StringComparison.Ordinal))
        {
            return Normal(0.1);
        }
        if (name.EndsWith("position_embeddings", StringComparison.Ordinal))
        {
            return Normal(0.5);
        }
        long fanIn = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        return Normal(1.0 / Math.Sqrt(fanIn));
    }

    /// <summary>Initial weights for training from scratch (see <see cref="GeneratorOptions.ForTraining"/>).</summary>
    public static Tensor TrainingInitialWeight(string name, long[] shape, int seed)
    {
        var generator = new TorchSharp.torch.Generator((ulong)(seed * 1_000_003L + StableHash(name)));
        if (name.EndsWith("lambda1", StringComparison.Ordinal))
        {
            return full(shape, 0.1f);
        }
        if (name.Contains("norm", StringComparison.Ordinal))
        {
            return name.EndsWith(".weight", StringComparison.Ordinal) ? ones(shape) : zeros(shape);
        }
        if (name.EndsWith(".bias", StringComparison.Ordinal) || name.EndsWith("mask_token", StringComparison.Ordinal))
        {
            return zeros(shape);
        }
        return normal(0, 0.02, shape.AsSpan(), generator: generator).clamp(-0.04, 0.04);
    }

    private static long StableHash(string text)
    {
        // FNV-1a: string.GetHashCode is randomized per process, and generated files must be identical across runs.
        ulong hash = 14695981039346656037UL;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return (long)(hash & 0x7FFFFFFF);
    }
}
