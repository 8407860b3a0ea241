using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Vision;
using WebSsl.Vision.Images;
using WebSsl.Vision.Images.Tiling;
using static TorchSharp.torch;

namespace WebSsl.Training.Data;

/// <summary>
/// Preprocessed pixel_values of every view of an image ([views, 3, H, W]: the global view, then its tiles) kept in memory for runs that train the encoder (its features change every step, so they
/// cannot be cached; decoding and resizing the same image every epoch would cost more than the step). Bounded: beyond
/// <see cref="MaxBytes"/> images are preprocessed each time.
/// </summary>
public sealed class PixelCache(VisionEncoder encoder, PreprocessOptions preprocess, ViewPlanner views, long maxBytes = 4L << 30) : IDisposable
{
    private readonly Dictionary<string, Tensor> _pixels = new(StringComparer.Ordinal);
    private long _bytes;

    public long MaxBytes { get; } = maxBytes;

    /// <summary>pixel_values [views, 3, H, W] (float32, CPU); the caller must not dispose it.</summary>
    public Tensor Get(ImageSource image)
    {
        string key = image.Path ?? image.Label;
        if (_pixels.TryGetValue(key, out Tensor? cached))
        {
            return cached;
        }
        using Image<Rgb24> loaded = ImageLoader.Load(image.ReadBytes(), image.Label);
        IReadOnlyList<Tensor> planned = ImageViews.Pixels(loaded, views.Plan(image, loaded), encoder.Preprocessor, preprocess);
        Tensor pixels = stack(planned.ToArray());
        foreach (Tensor view in planned)
        {
            view.Dispose();
        }
        long size = pixels.numel() * 4;
        if (_bytes + size <= MaxBytes)
        {
            _pixels[key] = pixels.DetachFromDisposeScope(); // the cache owns it from now on
            _bytes += size;
        }
        return pixels; // otherwise it belongs to the caller's dispose scope
    }

    public void Dispose()
    {
        foreach (Tensor t in _pixels.Values)
        {
            t.Dispose();
        }
        _pixels.Clear();
    }
}
