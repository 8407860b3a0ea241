using TorchSharp.Modules;
using WebSsl.Multimodal.Projectors;
using WebSsl.Training.Data;
using WebSsl.Training.Llm;
using WebSsl.Vision;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Images;
using WebSsl.Vision.Images.Tiling;
using static TorchSharp.torch;

namespace WebSsl.Training.Runs;

/// <summary>What a run trains, as LLaVA names its stages.</summary>
public enum TuneMode
{
    /// <summary>Stage 1: only the projector; encoder and LLM frozen (features cached on disk).</summary>
    Projector,

    /// <summary>Stage 2: the projector and every LLM weight; the encoder frozen.</summary>
    Llm,

    /// <summary>Everything: encoder, projector and LLM (for small models trained from scratch, like the demo).</summary>
    All,
}

/// <summary>
/// The trained parts of a run and how to get image features for them: from the disk feature cache while the encoder is
/// frozen, from the encoder itself (with gradients) when it is tuned. Also what a checkpoint holds besides the projector.
/// </summary>
internal sealed class TunedModels : IDisposable
{
    public const string LlmWeightsFile = "llm.safetensors";
    public const string EncoderWeightsFile = "encoder.safetensors";

    private readonly FeatureCache _cache;
    private readonly PixelCache? _pixels;
    private readonly FeatureSelection _selection;

    public TunedModels(TuneMode mode, Projector projector, GgufLlama llama, VisionEncoder encoder, FeatureCache cache, FeatureSelection selection,
        PreprocessOptions preprocess)
    {
        Mode = mode;
        Projector = projector;
        Llama = llama;
        Encoder = encoder;
        _cache = cache;
        _selection = selection;
        var parameters = new List<Parameter>(projector.parameters());
        if (mode >= TuneMode.Llm)
        {
            parameters.AddRange(llama.SetTrainable(true));
        }
        if (mode == TuneMode.All)
        {
            parameters.AddRange(encoder.SetTrainable(true));
            _pixels = new PixelCache(encoder, preprocess, cache.Views);
        }
        Parameters = parameters;
    }

    public TuneMode Mode { get; }

    public Projector Projector { get; }

    public GgufLlama Llama { get; }

    public VisionEncoder Encoder { get; }

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>
    /// The LLM's rows [rows_i, n_embd] for each image, in order: every view's features (from the cache, or from the
    /// encoder with gradients when it is tuned) projected in one batch, then laid out by the projector as serving lays
    /// them out (<see cref="Projector.Arrange"/>).
    /// </summary>
    public IReadOnlyList<Tensor> ImageRows(IReadOnlyList<ImageSource> images, CancellationToken cancellationToken)
    {
        Tensor features;
        if (_pixels is null)
        {
            features = cat(images.Select(image => _cache.Get(image, cancellationToken)).ToArray());
        }
        else
        {
            cancellationToken.ThrowIfCancellationRequested();
            Tensor batch = cat(images.Select(_pixels.Get).ToArray()).to(Encoder.ComputeDType, Encoder.Device);
            features = Encoder.TrainingFeatures(batch, _selection).to(ScalarType.Float32);
        }
        Tensor projected = Projector.forward(features);
        var rows = new List<Tensor>(images.Count);
        int view = 0;
        foreach (ImageSource image in images)
        {
            ViewLayout layout = _cache.Views.Plan(image);
            rows.Add(Projector.Arrange(projected.narrow(0, view, layout.Views), layout));
            view += layout.Views;
        }
        return rows;
    }

    /// <summary>The weights a checkpoint must hold besides the projector, by file.</summary>
    public IEnumerable<(string File, IEnumerable<KeyValuePair<string, Tensor>> Tensors)> CheckpointParts()
    {
        if (Mode >= TuneMode.Llm)
        {
            yield return (LlmWeightsFile, Llama.Weights);
        }
        if (Mode == TuneMode.All)
        {
            yield return (EncoderWeightsFile, Encoder.Model.named_parameters().Select(p => KeyValuePair.Create(p.name, (Tensor)p.parameter)));
        }
    }

    /// <summary>Writes each part as safetensors into <paramref name="folder"/>.</summary>
    public void SaveParts(string folder)
    {
        foreach (var (file, tensors) in CheckpointParts())
        {
            using var scope = NewDisposeScope();
            SafetensorsWriter.Write(Path.Combine(folder, file), tensors.Select(t => KeyValuePair.Create(t.Key, t.Value.detach().to(ScalarType.Float32, CPU).contiguous())).ToList(),
                SafetensorsDType.F32);
        }
    }

    /// <summary>Restores each part from <paramref name="folder"/>: exactly the same names and shapes, or an error naming the tensor.</summary>
    public void LoadParts(string folder)
    {
        using var noGrad = no_grad();
        foreach (var (file, tensors) in CheckpointParts())
        {
            string path = Path.Combine(folder, file);
            using SafetensorsFile saved = SafetensorsFile.Open(path);
            var wanted = tensors.ToList();
            if (saved.Tensors.Count != wanted.Count)
            {
                throw new CheckpointException(path, "(all)", $"holds {saved.Tensors.Count} tensors, this run trains {wanted.Count}.");
            }
            foreach (var (name, tensor) in wanted)
            {
                if (!saved.Tensors.TryGetValue(name, out SafetensorsTensorInfo? info) || !info.Shape.SequenceEqual(tensor.shape))
                {
                    throw new CheckpointException(path, name, $"missing or of another shape; expected {SafetensorsFile.FormatShape(tensor.shape)}.");
                }
                using Tensor value = saved.Read(name);
                tensor.copy_(value);
            }
        }
    }

    public void Dispose()
    {
        _pixels?.Dispose();
        if (Mode >= TuneMode.Llm)
        {
            Llama.SetTrainable(false);
        }
        if (Mode == TuneMode.All)
        {
            Encoder.SetTrainable(false);
        }
    }
}
