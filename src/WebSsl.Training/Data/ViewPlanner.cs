using System.Collections.Concurrent;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Vision.Images;
using WebSsl.Vision.Images.Tiling;

namespace WebSsl.Training.Data;

/// <summary>
/// The view layout of every training image under the run's tiling scheme, decided once per image and remembered, so the
/// sequences (whose image parts have one row per embedding), the feature and pixel caches and validation all agree. The
/// same rule as serving (<see cref="ImageViews"/>): from the image's size when the scheme allows, else from its pixels.
/// </summary>
public sealed class ViewPlanner(TilingOptions? tiling, int tileSize)
{
    private readonly ConcurrentDictionary<string, ViewLayout> _layouts = new(StringComparer.Ordinal);

    public TilingOptions? Tiling { get; } = tiling;

    public int TileSize { get; } = tileSize;

    /// <summary>The layout of <paramref name="image"/>; its bytes are read (and decoded for auto tiling) the first time only.</summary>
    public ViewLayout Plan(ImageSource image) =>
        Tiling is null ? ViewLayout.GlobalOnly : _layouts.GetOrAdd(Key(image), _ => Compute(image.ReadBytes(), image.Label));

    /// <summary>The layout of a decoded image (remembered under its source's key).</summary>
    public ViewLayout Plan(ImageSource image, Image<Rgb24> decoded) =>
        Tiling is null ? ViewLayout.GlobalOnly : _layouts.GetOrAdd(Key(image), _ => ImageViews.Plan(decoded, Tiling, TileSize));

    private ViewLayout Compute(byte[] bytes, string label)
    {
        ImageHeader header = ImageLoader.Inspect(bytes, label);
        if (ImageViews.PlanFromSize(header.Width, header.Height, Tiling, TileSize) is ViewLayout known)
        {
            return known;
        }
        using Image<Rgb24> decoded = ImageLoader.Load(bytes, label);
        return ImageViews.Plan(decoded, Tiling, TileSize);
    }

    private static string Key(ImageSource image) => image.Path ?? image.Label;
}
