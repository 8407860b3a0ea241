using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace WebSsl.Vision.Images.Tiling;

/// <summary>
/// Cuts an image into the tiles of a <see cref="TileGrid"/>: the image is resized to exactly columns × rows tiles of
/// the tile size (the grid was chosen for the image's aspect ratio, so the distortion is small), then cut row by row.
/// The global view (the whole image at one tile's size) is made by the encoder's own preprocessing, not here.
/// </summary>
public static class ImageTiler
{
    /// <summary>The tiles in reading order; the caller owns (and disposes) them.</summary>
    public static IReadOnlyList<Image<Rgb24>> Tiles(Image<Rgb24> image, TileGrid grid, int tileSize)
    {
        if (tileSize <= 0)
        {
            throw new BadInputException($"a tile size of {tileSize} pixels is not possible.");
        }
        using Image<Rgb24> resized = image.Clone(c => c.Resize(new ResizeOptions
        {
            Size = new Size(grid.Columns * tileSize, grid.Rows * tileSize),
            Mode = ResizeMode.Stretch,
            Sampler = KnownResamplers.Bicubic,
        }));
        var tiles = new List<Image<Rgb24>>(grid.Count);
        try
        {
            for (int row = 0; row < grid.Rows; row++)
            {
                for (int column = 0; column < grid.Columns; column++)
                {
                    var area = new Rectangle(column * tileSize, row * tileSize, tileSize, tileSize);
                    tiles.Add(resized.Clone(c => c.Crop(area)));
                }
            }
            return tiles;
        }
        catch
        {
            tiles.ForEach(t => t.Dispose());
            throw;
        }
    }
}
