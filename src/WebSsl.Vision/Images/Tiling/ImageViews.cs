using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace WebSsl.Vision.Images.Tiling;

/// <summary>
/// The encoder inputs one picture becomes under a tiling scheme: the global view (the whole image, preprocessed as
/// trained: crop, pad or stretch) then the tiles of its grid in reading order, each at the encoder's resolution. The one
/// place where a picture becomes views, for serving, the training caches and evaluation alike.
/// </summary>
public static class ImageViews
{
    /// <summary>The layout <paramref name="tiling"/> gives <paramref name="image"/> (the global view alone without tiling).</summary>
    public static ViewLayout Plan(Image<Rgb24> image, TilingOptions? tiling, int tileSize) =>
        tiling is null ? ViewLayout.GlobalOnly : DetailMeter.Plan(image, tiling, tileSize);

    /// <summary>
    /// The layout an image of <paramref name="width"/> × <paramref name="height"/> gets before it is decoded, when that can
    /// be known from its size alone (no tiling, or tiles by aspect ratio); null when it depends on the pixels (auto).
    /// </summary>
    public static ViewLayout? PlanFromSize(int width, int height, TilingOptions? tiling, int tileSize) => tiling switch
    {
        null => ViewLayout.GlobalOnly,
        { Selection: TileSelection.Aspect } => new ViewLayout(TileGrid.Choose(width, height, tiling.MinTiles, tiling.MaxTiles, tileSize)),
        _ => null,
    };

    /// <summary>The most views any image can take under <paramref name="tiling"/>.</summary>
    public static int MaxViews(TilingOptions? tiling) => tiling is null ? 1 : 1 + (tiling.MaxTiles > 1 ? tiling.MaxTiles : 0);

    /// <summary>pixel_values [3, S, S] of every view of <paramref name="layout"/>, in order; the caller owns them.</summary>
    public static IReadOnlyList<Tensor> Pixels(Image<Rgb24> image, ViewLayout layout, ImagePreprocessor preprocessor, PreprocessOptions preprocess)
    {
        var views = new List<Tensor> { preprocessor.ToPixelValues(image, preprocess) };
        if (!layout.HasTiles)
        {
            return views;
        }
        (int size, _) = preprocessor.OutputSize(preprocess);
        IReadOnlyList<Image<Rgb24>> tiles = ImageTiler.Tiles(image, layout.Grid, size);
        try
        {
            foreach (Image<Rgb24> tile in tiles)
            {
                views.Add(preprocessor.ToPixelValues(tile, preprocess)); // already the encoder's size: only normalized (and enhanced as asked)
            }
            return views;
        }
        catch
        {
            views.ForEach(v => v.Dispose());
            throw;
        }
        finally
        {
            foreach (Image<Rgb24> tile in tiles)
            {
                tile.Dispose();
            }
        }
    }
}
