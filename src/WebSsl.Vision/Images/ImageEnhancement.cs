using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Normalization;

namespace WebSsl.Vision.Images;

/// <summary>Optional clean-ups for scans and technical images (the Web-SSL guidance for OCR-heavy inputs).</summary>
[Flags]
public enum ImageEnhancement
{
    None = 0,

    /// <summary>Adaptive histogram equalization (CLAHE-style, tile interpolation with clipping): lifts faded scans. Output is grayscale.</summary>
    Equalize = 1,

    /// <summary>Adaptive (local mean) binarization: black text on white, robust to uneven lighting.</summary>
    Binarize = 2,
}

public static class ImageEnhancer
{
    /// <summary>Tiles per side for adaptive equalization; 8 is the usual CLAHE grid.</summary>
    public const int EqualizationTiles = 8;

    /// <summary>Returns a new image with the enhancements applied in a fixed order (equalize, then binarize).</summary>
    public static Image<Rgb24> Apply(Image<Rgb24> image, ImageEnhancement enhancement) =>
        image.Clone(context =>
        {
            if (enhancement.HasFlag(ImageEnhancement.Equalize))
            {
                context.HistogramEqualization(new HistogramEqualizationOptions
                {
                    Method = HistogramEqualizationMethod.AdaptiveTileInterpolation,
                    ClipHistogram = true,
                    NumberOfTiles = EqualizationTiles,
                });
            }
            if (enhancement.HasFlag(ImageEnhancement.Binarize))
            {
                context.AdaptiveThreshold();
            }
        });

    /// <summary>Parses "none", "equalize", "binarize" or a comma list such as "equalize,binarize".</summary>
    public static ImageEnhancement Parse(string text)
    {
        var result = ImageEnhancement.None;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result |= part.ToLowerInvariant() switch
            {
                "none" => ImageEnhancement.None,
                "equalize" or "clahe" => ImageEnhancement.Equalize,
                "binarize" => ImageEnhancement.Binarize,
                _ => throw new BadInputException($"enhancement '{part}' is not known; use none, equalize or binarize."),
            };
        }
        return result;
    }
}
