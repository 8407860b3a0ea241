using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Vision.Images.Tiling;

namespace WebSsl.Vision.Tests.Images;

/// <summary>How a page or a chart is cut into tiles at the encoder's resolution.</summary>
public sealed class TilingTests
{
    [Theory]
    [InlineData(2480, 3508, 6, 2, 3)] // an A4 scan at 300 dpi (0.71): 2 x 3 (0.67) is the closest shape within 6 tiles
    [InlineData(1600, 900, 6, 2, 1)]  // a 16:9 chart: 2 x 1
    [InlineData(3508, 2480, 12, 4, 3)] // landscape A4 (1.41) within 12 tiles: 4 x 3 (1.33) is closer than 3 x 2 (1.5)
    [InlineData(1000, 1000, 6, 2, 2)] // square and big enough to fill 2 x 2: the larger of the equal shapes
    [InlineData(200, 200, 6, 1, 1)]   // square but small: one tile, not four nearly empty ones
    [InlineData(300, 3000, 6, 1, 6)]  // a long receipt: one column of six
    [InlineData(2480, 3508, 1, 1, 1)] // a budget of one tile is one tile
    public void The_grid_follows_the_images_shape_within_the_budget(int width, int height, int maxTiles, int columns, int rows)
    {
        Assert.Equal(new TileGrid(columns, rows), TileGrid.Choose(width, height, minTiles: 1, maxTiles, tileSize: 224));
    }

    [Fact]
    public void A_minimum_keeps_small_images_from_being_read_as_one_tile()
    {
        Assert.Equal(new TileGrid(2, 1), TileGrid.Choose(200, 100, minTiles: 2, maxTiles: 6, tileSize: 224));
        Assert.All(TileGrid.Candidates(2, 6), g => Assert.InRange(g.Count, 2, 6));
    }

    [Fact]
    public void Impossible_budgets_and_sizes_are_refused_naming_the_numbers()
    {
        Assert.Contains("3 to 2 tiles", Assert.Throws<BadInputException>(() => TileGrid.Choose(100, 100, 3, 2, 224)).Message);
        Assert.Contains("0x100", Assert.Throws<BadInputException>(() => TileGrid.Choose(0, 100, 1, 6, 224)).Message);
    }

    [Fact]
    public void Tiles_come_in_reading_order_at_the_tile_size()
    {
        // Four quadrants of different colours; a 2 x 2 grid gives them back row by row.
        Rgb24[] colours = [new(250, 0, 0), new(0, 250, 0), new(0, 0, 250), new(250, 250, 0)];
        using var image = new Image<Rgb24>(400, 300);
        for (int y = 0; y < 300; y++)
        {
            for (int x = 0; x < 400; x++)
            {
                image[x, y] = colours[(y < 150 ? 0 : 2) + (x < 200 ? 0 : 1)];
            }
        }
        IReadOnlyList<Image<Rgb24>> tiles = ImageTiler.Tiles(image, new TileGrid(2, 2), tileSize: 56);
        try
        {
            Assert.Equal(4, tiles.Count);
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal((56, 56), (tiles[i].Width, tiles[i].Height));
                Assert.Equal(colours[i], tiles[i][28, 28]);
            }
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
