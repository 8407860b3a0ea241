using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Vision.Images;
using WebSsl.Vision.Images.Tiling;
using static TorchSharp.torch;

namespace WebSsl.Vision.Tests.Images;

/// <summary>How a picture becomes the encoder's views under a tiling scheme, and how `auto` decides how many it needs.</summary>
public sealed class TileViewsTests
{
    /// <summary>A page of "text": rows of 2-pixel strokes with 2-pixel gaps, as 10-point type looks in a 150 dpi scan.</summary>
    private static Image<Rgb24> DenseTextPage(int width = 850, int height = 1100) => TestImages.Make(width, height, (x, y) =>
        x > 60 && x < width - 60 && y % 14 < 8 && (x / 2 + y / 3) % 3 != 0 && (x / 37) % 7 != 6 ? new Rgb24(20, 20, 20) : new Rgb24(250, 250, 250));

    /// <summary>A bar chart: three big bars on white.</summary>
    private static Image<Rgb24> BarChart(int width = 850, int height = 600) => TestImages.Make(width, height, (x, y) =>
        (x / 200) is 1 or 2 or 3 && x % 200 > 40 && y > height - 150 * (x / 200) - 60 && y < height - 40 ? new Rgb24(40, 90, 200) : new Rgb24(255, 255, 255));

    [Theory]
    [InlineData("none", null, null)]
    [InlineData("6", TileSelection.Aspect, 6)]
    [InlineData("auto", TileSelection.Auto, 6)]
    [InlineData("auto:12", TileSelection.Auto, 12)]
    public void Tilings_are_written_as_on_the_command_line(string text, TileSelection? selection, int? maxTiles)
    {
        TilingOptions? tiling = TilingOptions.Parse(text);
        Assert.Equal(selection, tiling?.Selection);
        Assert.Equal(maxTiles, tiling?.MaxTiles);
        Assert.Equal(text == "none" ? null : text == "auto" ? "auto:6" : text, tiling?.ToString());
    }

    [Theory]
    [InlineData("auto:x", "not a number")]
    [InlineData("0", "1 <= min <= max")]
    [InlineData("65", "<= 64")]
    [InlineData("auto:4:2", "not understood")]
    public void Impossible_tilings_are_refused_naming_the_rule(string text, string rule)
    {
        Assert.Contains(rule, Assert.Throws<BadInputException>(() => TilingOptions.Parse(text)).Message);
    }

    [Fact]
    public void Auto_reads_a_bar_chart_as_one_view_and_a_dense_page_in_many_tiles()
    {
        var auto = new TilingOptions { Selection = TileSelection.Auto, MaxTiles = 12 };
        using Image<Rgb24> chart = BarChart(), page = DenseTextPage();
        Assert.Equal(ViewLayout.GlobalOnly, ImageViews.Plan(chart, auto, 224));
        ViewLayout pageLayout = ImageViews.Plan(page, auto, 224);
        Assert.True(pageLayout.Grid.Count >= 6, $"the dense page got {pageLayout}");

        // The measure behind it: the page loses far more detail in one view than the chart does, and less with every tile.
        double chartLoss = DetailMeter.LossAt(chart, TileGrid.Single, 224), pageLoss = DetailMeter.LossAt(page, TileGrid.Single, 224, new TileGrid(3, 4));
        Assert.True(pageLoss > 5 * chartLoss && pageLoss > DetailMeter.DefaultTolerance, $"page {pageLoss:F4}, chart {chartLoss:F4}");
        Assert.True(DetailMeter.LossAt(page, new TileGrid(2, 3), 224, new TileGrid(3, 4)) < pageLoss);
    }

    [Fact]
    public void Aspect_tiling_is_known_from_the_size_alone_and_auto_is_not()
    {
        Assert.Equal(new ViewLayout(new TileGrid(2, 3)), ImageViews.PlanFromSize(2480, 3508, new TilingOptions(), 224));
        Assert.Equal(ViewLayout.GlobalOnly, ImageViews.PlanFromSize(2480, 3508, null, 224));
        Assert.Null(ImageViews.PlanFromSize(2480, 3508, new TilingOptions { Selection = TileSelection.Auto }, 224));
        Assert.Equal(7, ImageViews.MaxViews(new TilingOptions()));
    }

    [Fact]
    public void The_views_are_the_global_view_then_the_tiles_in_reading_order()
    {
        var preprocessor = new ImagePreprocessor(PreprocessorConfig.DefaultFor(28), patchSize: 14);
        // Quadrant colours, so each tile is known.
        Rgb24[] colours = [new(255, 0, 0), new(0, 255, 0), new(0, 0, 255), new(255, 255, 0)];
        using Image<Rgb24> image = TestImages.Make(112, 112, (x, y) => colours[(y / 56) * 2 + x / 56]);
        var layout = new ViewLayout(new TileGrid(2, 2));
        var options = new PreprocessOptions { Mode = PreprocessMode.Pad };
        IReadOnlyList<Tensor> views = ImageViews.Pixels(image, layout, preprocessor, options);
        try
        {
            Assert.Equal(5, views.Count);
            Assert.All(views, v => Assert.Equal([3L, 28, 28], v.shape));
            using Tensor global = preprocessor.ToPixelValues(image, options);
            Assert.True(global.allclose(views[0]));
            for (int tile = 0; tile < 4; tile++)
            {
                using Image<Rgb24> solid = TestImages.Make(28, 28, (_, _) => colours[tile]);
                using Tensor expected = preprocessor.ToPixelValues(solid, options);
                // Away from the quadrant borders (where the resize blends neighbours) each tile is its quadrant's colour.
                Assert.True(expected[.., 4..24, 4..24].allclose(views[1 + tile][.., 4..24, 4..24], atol: 0.05), $"tile {tile}");
            }
        }
        finally
        {
            foreach (Tensor v in views)
            {
                v.Dispose();
            }
        }
    }

    [Fact]
    public void A_one_tile_grid_is_the_global_view_alone()
    {
        Assert.False(new ViewLayout(TileGrid.Single).HasTiles);
        Assert.Equal(1, ViewLayout.GlobalOnly.Views);
        Assert.Equal(7, new ViewLayout(new TileGrid(2, 3)).Views);
        Assert.Equal("global+2x3", new ViewLayout(new TileGrid(2, 3)).ToString());
    }
}
