using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Language.Prompting;
using WebSsl.Multimodal.Adapters;
using WebSsl.Vision;
using WebSsl.Vision.Images;
using static TorchSharp.torch;

namespace WebSsl.Multimodal;

/// <summary>
/// The serving path from pixels to LLM input embeddings: preprocess as the adapter was trained, encode, select the
/// trained layer, project. The encoder and adapter are checked against each other on construction.
/// </summary>
public sealed class ImageEmbedder
{
    public ImageEmbedder(VisionEncoder encoder, Adapter adapter)
    {
        Encoder = encoder;
        Adapter = adapter;
        EncoderIdentity expected = adapter.Manifest.Encoder;
        Features = new FeatureSelection { Layer = expected.FeatureLayer, KeepCls = expected.KeepCls };
        Preprocess = new PreprocessOptions
        {
            Mode = Enum.Parse<PreprocessMode>(expected.Preprocess, ignoreCase: true),
            Resolution = expected.Resolution,
        };
        List<string> differences = Identities.Differences(adapter.Manifest, Identities.Of(encoder, Features, Preprocess), llm: null);
        if (differences.Count > 0)
        {
            throw new AdapterMismatchException(adapter.Directory ?? "adapter", differences);
        }
    }

    public VisionEncoder Encoder { get; }

    public Adapter Adapter { get; }

    public FeatureSelection Features { get; }

    public PreprocessOptions Preprocess { get; }

    /// <summary>Image tokens each image becomes.</summary>
    public int TokensPerImage => Adapter.Projector.OutputTokens(Adapter.Manifest.Encoder.TokenGrid * Adapter.Manifest.Encoder.TokenGrid + (Features.KeepCls ? 1 : 0));

    /// <summary>
    /// Preprocessing for one request: the adapter's own unless the caller chooses another mode, or another resolution —
    /// which only an adapter with a token grid accepts (its projector brings every resolution to the trained token count).
    /// </summary>
    public PreprocessOptions OptionsFor(PreprocessMode? mode = null, int? resolution = null, ImageEnhancement enhancement = ImageEnhancement.None)
    {
        if (resolution is int r && r != Preprocess.Resolution)
        {
            if (Adapter.Projector.Config.TokenGrid is null)
            {
                throw new ArgumentException(
                    $"this adapter was trained at {Preprocess.Resolution}px without a token grid; another resolution would change the number of image tokens the LLM sees. " +
                    "Train with --token-grid to allow it.");
            }
            _ = Encoder.Preprocessor.OutputSize(new PreprocessOptions { Resolution = r }); // a multiple of the patch size
        }
        return Preprocess with { Mode = mode ?? Preprocess.Mode, Resolution = resolution ?? Preprocess.Resolution, Enhancement = enhancement };
    }

    public ImageEmbedding Embed(Image<Rgb24> image, CancellationToken cancellationToken = default)
    {
        using Tensor pixels = Encoder.Preprocessor.ToPixelValues(image, Preprocess);
        using Tensor features = Encoder.EncodeFeatures([pixels], Features, cancellationToken);
        return Project(features[0]);
    }

    /// <summary>Projects encoder features [tokens, hidden] of one image.</summary>
    public ImageEmbedding Project(Tensor features)
    {
        using var scope = NewDisposeScope();
        using var inference = no_grad();
        Tensor embedded = Adapter.Projector.forward(features.unsqueeze(0))[0].contiguous();
        return new ImageEmbedding(embedded.data<float>().ToArray(), (int)embedded.shape[1]);
    }
}
