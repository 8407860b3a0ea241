using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Images;
using WebSsl.Vision.Models;
using WebSsl.Vision.Runtime;
using static TorchSharp.torch;

namespace WebSsl.Vision;

/// <summary>How an encoder is placed and run.</summary>
public sealed record VisionEncoderOptions
{
    /// <summary>cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// float32, float16 or bfloat16; null picks float32 on CPU (half-precision matmul is ~100x slower on CPUs without
    /// BF16 units) and the checkpoint's stored half type on CUDA.
    /// </summary>
    public string? ComputeDType { get; init; }

    /// <summary>Images per forward pass; cancellation is checked between batches.</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>libtorch intra-op threads; null keeps libtorch's default (one per core).</summary>
    public int? Threads { get; init; }
}

/// <summary>Which features downstream consumers (projectors, feature files) take from a forward pass.</summary>
public sealed record FeatureSelection
{
    /// <summary>Index into transformers' hidden_states (0 = embeddings, -1 = last block, before the final norm); null = last_hidden_state (normed).</summary>
    public int? Layer { get; init; } = -1;

    /// <summary>Keep the [CLS] token as the first row (otherwise only patch tokens).</summary>
    public bool KeepCls { get; init; }

    public static FeatureSelection Default { get; } = new();
}

/// <summary>
/// A Web-SSL encoder ready to run: config, weights, preprocessing. Owns the model; dispose it to free the weights.
/// </summary>
public sealed class VisionEncoder : IDisposable
{
    private VisionEncoder(string name, VisionConfig config, VisionTransformer model, ImagePreprocessor preprocessor, VisionEncoderOptions options)
    {
        Name = name;
        Config = config;
        Model = model;
        Preprocessor = preprocessor;
        Options = options;
    }

    public string Name { get; }

    public VisionConfig Config { get; }

    public VisionTransformer Model { get; }

    public ImagePreprocessor Preprocessor { get; }

    public VisionEncoderOptions Options { get; }

    public Device Device => Model.Factory.Device;

    public ScalarType ComputeDType => Model.Factory.DType;

    /// <summary>The checkpoint folder the encoder was loaded from (null for models built in memory).</summary>
    public string? SourceDirectory { get; private init; }

    /// <summary>How long reading the weights took (zero for models built in memory).</summary>
    public TimeSpan LoadTime { get; private init; }

    /// <summary>Opens a HuggingFace Web-SSL folder, builds the model on the requested device and streams the weights in.</summary>
    public static VisionEncoder Load(string checkpointDirectory, VisionEncoderOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new VisionEncoderOptions();
        TorchRuntime.EnsureInitialized(options.Threads);
        Device device = TorchRuntime.ResolveDevice(options.Device);
        var watch = Stopwatch.StartNew();
        using VisionCheckpoint checkpoint = VisionCheckpoint.Open(checkpointDirectory);
        ScalarType dtype = ChooseComputeType(options.ComputeDType, device, checkpoint.StoredDType);
        var model = new VisionTransformer(checkpoint.Config, new ParameterFactory(device, dtype));
        try
        {
            CheckpointLoader.LoadInto(model, checkpoint, cancellationToken);
            model.eval();
            PreprocessorConfig preprocessing = checkpoint.Preprocessor ?? PreprocessorConfig.DefaultFor(checkpoint.Config.ImageSize);
            return new VisionEncoder(checkpoint.Name, checkpoint.Config, model, new ImagePreprocessor(preprocessing, checkpoint.Config.PatchSize), options)
            {
                LoadTime = watch.Elapsed,
                SourceDirectory = Path.GetFullPath(checkpointDirectory),
            };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Wraps a model built in memory (benchmarks, tests); its parameters must already hold weights.</summary>
    public static VisionEncoder FromModel(string name, VisionTransformer model, PreprocessorConfig? preprocessing = null, VisionEncoderOptions? options = null)
    {
        model.eval();
        return new VisionEncoder(name, model.Config, model,
            new ImagePreprocessor(preprocessing ?? PreprocessorConfig.DefaultFor(model.Config.ImageSize), model.Config.PatchSize),
            options ?? new VisionEncoderOptions());
    }

    /// <summary>Parses a compute type name, choosing the documented default when none is given.</summary>
    public static ScalarType ChooseComputeType(string? requested, Device device, SafetensorsDType stored) => requested?.ToLowerInvariant() switch
    {
        null or "" or "auto" => device.type == DeviceType.CPU || stored == SafetensorsDType.F32 ? ScalarType.Float32 : stored.ToScalarType(),
        "float32" or "fp32" or "f32" => ScalarType.Float32,
        "float16" or "fp16" or "f16" or "half" => ScalarType.Float16,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        _ => throw new BadInputException($"compute type '{requested}' is not known; use float32, float16 or bfloat16."),
    };

    /// <summary>Loads, validates and preprocesses an image file into pixel_values [3, H, W] (float32, CPU).</summary>
    public Tensor PreprocessFile(string path, PreprocessOptions? options = null, ImageLimits? limits = null)
    {
        using Image<Rgb24> image = ImageLoader.LoadFile(path, limits);
        return Preprocessor.ToPixelValues(image, options);
    }

    /// <summary>One forward pass over pixel_values [B, 3, H, W] or [3, H, W]; outputs stay on the encoder's device and type.</summary>
    public EncoderOutput Forward(Tensor pixelValues, EncoderRequest request)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        Tensor batch = pixelValues.dim() == 3 ? pixelValues.unsqueeze(0) : pixelValues;
        EncoderOutput output = Model.Forward(batch, request);
        output.LastHiddenState?.MoveToOuterDisposeScope();
        foreach (Tensor t in output.HiddenStates.Values)
        {
            t.MoveToOuterDisposeScope();
        }
        return output;
    }

    /// <summary>
    /// Features for each image (all images the same size) as float32 CPU [N, tokens, D]. Runs in batches of
    /// <see cref="VisionEncoderOptions.MaxBatchSize"/>; cancellation is checked between batches.
    /// </summary>
    public Tensor EncodeFeatures(IReadOnlyList<Tensor> pixelValues, FeatureSelection? selection = null, CancellationToken cancellationToken = default)
    {
        selection ??= FeatureSelection.Default;
        if (pixelValues.Count == 0)
        {
            throw new BadInputException("no images to encode.");
        }
        if (pixelValues.Any(p => p.dim() != 3 || !p.shape.SequenceEqual(pixelValues[0].shape)))
        {
            throw new BadInputException("every image must be pixel_values [3, H, W] of the same size to be encoded together; " +
                $"got {string.Join(", ", pixelValues.Select(p => "[" + string.Join(", ", p.shape) + "]").Distinct())}.");
        }
        var request = selection.Layer is int layer
            ? new EncoderRequest { LastHiddenState = false, HiddenStates = [layer] }
            : EncoderRequest.LastOnly;
        int layerKey = selection.Layer is int l ? Model.NormalizeLayerIndex(l) : -1;
        var parts = new List<Tensor>();
        try
        {
            for (int start = 0; start < pixelValues.Count; start += Options.MaxBatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                Tensor batch = stack(pixelValues.Skip(start).Take(Options.MaxBatchSize).ToArray());
                using EncoderOutput output = Forward(batch, request);
                Tensor features = layerKey >= 0 ? output.HiddenStates[layerKey] : output.LastHiddenState!;
                Tensor selected = selection.KeepCls ? features : features[.., 1..];
                parts.Add(selected.to(ScalarType.Float32, CPU).contiguous().MoveToOuterDisposeScope());
            }
            return parts.Count == 1 ? parts[0] : cat(parts, 0);
        }
        finally
        {
            if (parts.Count > 1)
            {
                parts.ForEach(p => p.Dispose());
            }
        }
    }

    /// <summary>
    /// Features of a batch [B, 3, H, W] as <see cref="EncodeFeatures"/> selects them, but with gradients flowing to the
    /// encoder's weights (call <see cref="SetTrainable"/> first): for training the encoder together with what follows it.
    /// </summary>
    public Tensor TrainingFeatures(Tensor pixelBatch, FeatureSelection? selection = null)
    {
        selection ??= FeatureSelection.Default;
        var request = selection.Layer is int layer
            ? new EncoderRequest { LastHiddenState = false, HiddenStates = [layer] }
            : EncoderRequest.LastOnly;
        using EncoderOutput output = Model.Forward(pixelBatch, request);
        Tensor features = selection.Layer is int l ? output.HiddenStates[Model.NormalizeLayerIndex(l)] : output.LastHiddenState!;
        // EncoderOutput disposes its tensors: hand out a new handle to the selected rows (the graph keeps the storage).
        return selection.KeepCls ? features.narrow(1, 0, features.shape[1]) : features[.., 1..];
    }

    /// <summary>Switches gradients for the encoder's weights on or off; returns the tensors an optimizer should update.</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> SetTrainable(bool trainable)
    {
        IReadOnlyList<TorchSharp.Modules.Parameter> tensors = Model.TrainableTensors();
        foreach (Tensor t in tensors)
        {
            t.requires_grad_(trainable);
        }
        return tensors;
    }

    /// <summary>
    /// Writes the encoder as a HuggingFace checkpoint folder (config.json, preprocessor_config.json, model.safetensors in
    /// float32 with the transformers key names), the form <see cref="Load"/> and transformers read: save_pretrained.
    /// The config files of the checkpoint it was loaded from are copied byte for byte, so the saved encoder keeps its
    /// config hash (adapters trained with it check that hash) and every key transformers wrote.
    /// </summary>
    public void SavePretrained(string directory)
    {
        Directory.CreateDirectory(directory);
        var json = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        string? Original(string file) => SourceDirectory is not null && File.Exists(Path.Combine(SourceDirectory, file)) ? File.ReadAllText(Path.Combine(SourceDirectory, file)) : null;
        System.Text.Json.Nodes.JsonObject generated = Config.ToJson();
        generated["torch_dtype"] = "float32";
        WriteWhole(Path.Combine(directory, VisionCheckpoint.ConfigFile), Original(VisionCheckpoint.ConfigFile) ?? generated.ToJsonString(json));
        WriteWhole(Path.Combine(directory, VisionCheckpoint.PreprocessorFile), Original(VisionCheckpoint.PreprocessorFile) ?? Preprocessor.Config.ToJson().ToJsonString(json));
        string weights = Path.Combine(directory, VisionCheckpoint.SingleWeightsFile);
        using (var scope = NewDisposeScope())
        {
            SafetensorsWriter.Write(weights + ".partial", Model.named_parameters().Select(p => KeyValuePair.Create(p.name, p.parameter.detach().to(ScalarType.Float32, CPU).contiguous())),
                SafetensorsDType.F32, new Dictionary<string, string> { ["format"] = "pt" });
        }
        File.Move(weights + ".partial", weights, overwrite: true);

        static void WriteWhole(string path, string text)
        {
            File.WriteAllText(path + ".partial", text);
            File.Move(path + ".partial", path, overwrite: true);
        }
    }

    public void Dispose() => Model.Dispose();
}
