using System.Security.Cryptography;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Multimodal.Adapters;
using WebSsl.Vision;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Images;
using static TorchSharp.torch;

namespace WebSsl.Training.Data;

/// <summary>
/// Encoder features on disk, one safetensors file per image, keyed by the image's content hash and everything that
/// decides its features (encoder config, resolution, layer, CLS, preprocessing). Epochs after the first never run the
/// encoder; files are written under a temporary name and renamed, so an interrupted run leaves no half file.
/// </summary>
public sealed class FeatureCache
{
    private readonly VisionEncoder _encoder;
    private readonly FeatureSelection _selection;
    private readonly PreprocessOptions _preprocess;
    private readonly string _directory;
    private readonly string _identity;

    public FeatureCache(VisionEncoder encoder, FeatureSelection selection, PreprocessOptions preprocess, string directory)
    {
        _encoder = encoder;
        _selection = selection;
        _preprocess = preprocess;
        _directory = directory;
        EncoderIdentity identity = Identities.Of(encoder, selection, preprocess);
        _identity = $"{identity.ConfigHash}|{identity.Resolution}|{identity.FeatureLayer}|{identity.KeepCls}|{identity.Preprocess}|{preprocess.Enhancement}";
        Directory.CreateDirectory(directory);
    }

    public int Hits { get; private set; }

    public int Misses { get; private set; }

    /// <summary>Features [tokens, hidden] (float32, CPU) of one image, from the cache or computed and stored.</summary>
    public Tensor Get(ImageSource image, CancellationToken cancellationToken = default)
    {
        byte[] bytes = image.ReadBytes();
        string key = Convert.ToHexStringLower(SHA256.HashData([.. SHA256.HashData(bytes), .. Encoding.UTF8.GetBytes(_identity)]));
        string path = Path.Combine(_directory, key[..2], key + ".safetensors");
        if (File.Exists(path))
        {
            Hits++;
            using SafetensorsFile file = SafetensorsFile.Open(path);
            return file.Read("features");
        }
        Misses++;
        Tensor features = Compute(bytes, image.Label, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SafetensorsWriter.Write(path, [KeyValuePair.Create("features", features)], SafetensorsDType.F32);
        return features;
    }

    /// <summary>Features without the cache (the "no cache" path of the benchmark).</summary>
    public Tensor Compute(byte[] bytes, string label, CancellationToken cancellationToken = default)
    {
        using Image<Rgb24> loaded = ImageLoader.Load(bytes, label);
        using Tensor pixels = _encoder.Preprocessor.ToPixelValues(loaded, _preprocess);
        using Tensor features = _encoder.EncodeFeatures([pixels], _selection, cancellationToken);
        return features[0].clone();
    }
}
