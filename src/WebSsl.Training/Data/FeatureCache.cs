using System.Security.Cryptography;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Multimodal.Adapters;
using WebSsl.Vision;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Images;
using WebSsl.Vision.Images.Tiling;
using static TorchSharp.torch;

namespace WebSsl.Training.Data;

/// <summary>
/// Encoder features on disk, one safetensors file per image holding every view of it ([views, tokens, hidden]: the global
/// view, then its tiles under the run's tiling scheme), keyed by the image's content hash and everything that decides its
/// features (encoder config, resolution, layer, CLS, preprocessing, view layout). Epochs after the first never run the
/// encoder; files are written under a temporary name and renamed, so an interrupted run leaves no half file.
/// </summary>
public sealed class FeatureCache
{
    private readonly VisionEncoder _encoder;
    private readonly FeatureSelection _selection;
    private readonly PreprocessOptions _preprocess;
    private readonly string _directory;
    private readonly string _identity;

    public FeatureCache(VisionEncoder encoder, FeatureSelection selection, PreprocessOptions preprocess, string directory, ViewPlanner? views = null)
    {
        Views = views ?? new ViewPlanner(null, encoder.Preprocessor.OutputSize(preprocess).Height);
        _encoder = encoder;
        _selection = selection;
        _preprocess = preprocess;
        _directory = directory;
        EncoderIdentity identity = Identities.Of(encoder, selection, preprocess);
        _identity = $"{identity.ConfigHash}|{identity.Resolution}|{identity.FeatureLayer}|{identity.KeepCls}|{identity.Preprocess}|{preprocess.Enhancement}";
        Directory.CreateDirectory(directory);
    }

    /// <summary>How each image is cut into views.</summary>
    public ViewPlanner Views { get; }

    public int Hits { get; private set; }

    public int Misses { get; private set; }

    /// <summary>Features [views, tokens, hidden] (float32, CPU) of one image's views, from the cache or computed and stored.</summary>
    public Tensor Get(ImageSource image, CancellationToken cancellationToken = default)
    {
        ViewLayout layout = Views.Plan(image);
        byte[] bytes = image.ReadBytes();
        string key = Convert.ToHexStringLower(SHA256.HashData([.. SHA256.HashData(bytes), .. Encoding.UTF8.GetBytes($"{_identity}|{layout}")]));
        string path = Path.Combine(_directory, key[..2], key + ".safetensors");
        if (File.Exists(path))
        {
            Hits++;
            using SafetensorsFile file = SafetensorsFile.Open(path);
            return file.Read("features");
        }
        Misses++;
        Tensor features = Compute(bytes, image.Label, layout, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SafetensorsWriter.Write(path, [KeyValuePair.Create("features", features)], SafetensorsDType.F32);
        return features;
    }

    /// <summary>Features [views, tokens, hidden] without the cache (the "no cache" path of the benchmark).</summary>
    public Tensor Compute(byte[] bytes, string label, ViewLayout layout, CancellationToken cancellationToken = default)
    {
        using Image<Rgb24> loaded = ImageLoader.Load(bytes, label);
        IReadOnlyList<Tensor> views = ImageViews.Pixels(loaded, layout, _encoder.Preprocessor, _preprocess);
        try
        {
            using Tensor features = _encoder.EncodeFeatures(views, _selection, cancellationToken);
            return features.clone();
        }
        finally
        {
            foreach (Tensor view in views)
            {
                view.Dispose();
            }
        }
    }
}
