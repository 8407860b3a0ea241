using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace WebSsl.Vision.Images.Tiling;

/// <summary>
/// How much of an image's detail survives being read at a given resolution: the mean absolute difference (0..1) between
/// the image's luminance and the same luminance sent down to that resolution and back up. Text and thin lines lose a lot
/// when shrunk (their strokes blur into the background); flat areas and large shapes lose almost nothing. This is the
/// measure behind <see cref="TileSelection.Auto"/>: the smallest grid whose loss stays within the tolerance.
/// <para>
/// Written here because no library offers it: it is two ImageSharp resizes and a mean over the pixels. The image is
/// measured at the resolution of the largest grid allowed (detail finer than that cannot be read by any grid), capped at
/// <see cref="MaxAnalysisPixels"/> so measuring stays cheap next to encoding.
/// </para>
/// </summary>
public static class DetailMeter
{
    public const double DefaultTolerance = 0.02;

    public const long MaxAnalysisPixels = 2_000_000;

    /// <summary>
    /// The layout for <paramref name="image"/> under <paramref name="tiling"/>: by aspect ratio, or (auto) the smallest of
    /// the aspect-ratio grids for 1..max tiles whose detail loss is within the tolerance (the largest when none is).
    /// </summary>
    public static ViewLayout Plan(Image<Rgb24> image, TilingOptions tiling, int tileSize)
    {
        if (tiling.Selection == TileSelection.Aspect)
        {
            return new ViewLayout(TileGrid.Choose(image.Width, image.Height, tiling.MinTiles, tiling.MaxTiles, tileSize));
        }
        List<TileGrid> grids = GridsUpTo(image.Width, image.Height, tiling, tileSize);
        TileGrid largest = grids[^1];
        using Image<L8> analysis = AnalysisImage(image, largest, tileSize);
        foreach (TileGrid grid in grids)
        {
            if (Loss(analysis, ViewSize(grid, tileSize)) <= tiling.DetailTolerance)
            {
                return new ViewLayout(grid);
            }
        }
        return new ViewLayout(largest);
    }

    /// <summary>The detail <paramref name="image"/> loses when read at <paramref name="grid"/> (1×1: the global view alone).</summary>
    public static double LossAt(Image<Rgb24> image, TileGrid grid, int tileSize, TileGrid? analysisGrid = null)
    {
        using Image<L8> analysis = AnalysisImage(image, analysisGrid ?? grid, tileSize);
        return Loss(analysis, ViewSize(grid, tileSize));
    }

    /// <summary>The distinct grids the aspect rule picks for budgets of min..max tiles, smallest first.</summary>
    private static List<TileGrid> GridsUpTo(int width, int height, TilingOptions tiling, int tileSize) =>
        Enumerable.Range(tiling.MinTiles, tiling.MaxTiles - tiling.MinTiles + 1)
            .Select(max => TileGrid.Choose(width, height, tiling.MinTiles, max, tileSize))
            .Distinct()
            .OrderBy(g => g.Count)
            .ToList();

    private static Size ViewSize(TileGrid grid, int tileSize) => new(grid.Columns * tileSize, grid.Rows * tileSize);

    /// <summary>The luminance at the resolution of <paramref name="grid"/> (never enlarged; capped in pixels).</summary>
    private static Image<L8> AnalysisImage(Image<Rgb24> image, TileGrid grid, int tileSize)
    {
        Size target = ViewSize(grid, tileSize);
        double scale = Math.Min(1.0, Math.Sqrt((double)target.Width * target.Height / ((double)image.Width * image.Height)));
        scale = Math.Min(scale, Math.Sqrt(MaxAnalysisPixels / ((double)image.Width * image.Height)));
        int width = Math.Max(1, (int)Math.Round(image.Width * scale)), height = Math.Max(1, (int)Math.Round(image.Height * scale));
        Image<L8> luminance = image.CloneAs<L8>();
        if (width != image.Width || height != image.Height)
        {
            luminance.Mutate(c => c.Resize(width, height, KnownResamplers.Box));
        }
        return luminance;
    }

    /// <summary>Mean |a − up(down(a))| over the pixels, with the view's pixel budget kept at the image's aspect ratio.</summary>
    private static double Loss(Image<L8> analysis, Size view)
    {
        double scale = Math.Sqrt((double)view.Width * view.Height / ((double)analysis.Width * analysis.Height));
        if (scale >= 1)
        {
            return 0; // the view has at least the pixels measured: nothing is lost
        }
        int width = Math.Max(1, (int)Math.Round(analysis.Width * scale)), height = Math.Max(1, (int)Math.Round(analysis.Height * scale));
        using Image<L8> roundTrip = analysis.Clone(c => c.Resize(width, height, KnownResamplers.Box).Resize(analysis.Width, analysis.Height, KnownResamplers.Triangle));
        long total = 0;
        analysis.ProcessPixelRows(roundTrip, (original, restored) =>
        {
            for (int y = 0; y < original.Height; y++)
            {
                Span<L8> a = original.GetRowSpan(y), b = restored.GetRowSpan(y);
                for (int x = 0; x < a.Length; x++)
                {
                    total += Math.Abs(a[x].PackedValue - b[x].PackedValue);
                }
            }
        });
        return total / (255.0 * analysis.Width * analysis.Height);
    }
}
