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
