using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Embedding;
using WebSsl.Multimodal.Projectors;
using WebSsl.Vision;
using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Images;
using WebSsl.Vision.Images.Tiling;
using static TorchSharp.torch;

namespace WebSsl.Multimodal.Tests;

/// <summary>A page read in tiles through the one image path: what the LLM receives, and what is refused before any encoding.</summary>
public sealed class TiledEmbeddingTests : IDisposable
{
    private readonly TempDirectory _folder = new();
    private readonly VisionEncoder _encoder;
    private readonly EncoderIdentity _identity;

    public TiledEmbeddingTests()
    {
        CheckpointGenerator.Write(_folder.Path, CheckpointGenerator.Dino(32, 2, 4, 28), new GeneratorOptions { Seed = 3 });
        _encoder = VisionEncoder.Load(_folder.Path);
        _identity = Identities.Of(_encoder, FeatureSelection.Default, new PreprocessOptions { Mode = PreprocessMode.Pad });
    }

    /// <summary>A tall page (0.7) of stripes, which a 2 x 3 grid fits.</summary>
    private static byte[] Page() => TestImages.Encode(TestImages.Make(140, 200, (x, y) => (x / 3 + y / 2) % 2 == 0 ? new Rgb24(10, 10, 10) : new Rgb24(240, 240, 230)), TestImages.Png);

    private (Projector Plain, Projector Tiled) SameWeights(TilingOptions tiling)
    {
        manual_seed(4);
        var plain = new Projector(new ProjectorConfig { InputSize = 32, OutputSize = 16 });
        var tiled = new Projector(new ProjectorConfig { InputSize = 32, OutputSize = 16, Tiling = tiling });
        using (no_grad())
        {
            foreach (var (name, parameter) in plain.named_parameters())
            {
                tiled.get_parameter(name)!.copy_(parameter);
            }
        }
        return (plain, tiled);
    }

    [Fact]
    public async Task A_page_becomes_its_global_view_then_its_tiles_each_embedded_as_alone()
    {
        var (plainProjector, tiledProjector) = SameWeights(new TilingOptions { MaxTiles = 6 });
        using (plainProjector)
        using (tiledProjector)
        {
            await using var plain = new ImageEmbedder(_encoder, plainProjector, _identity);
            await using var tiled = new ImageEmbedder(_encoder, tiledProjector, _identity);
            byte[] page = Page();
            EmbeddedImage result = await tiled.EmbedAsync(page, "page.png");
            Assert.Equal(new ViewLayout(new TileGrid(2, 3)), result.Layout);
            int perView = 4; // (28 / 14)^2 patches
            Assert.Equal(perView + 1 + 6 * perView + 3, result.Embedding.Tokens);
            Assert.Equal(tiled.RowsFor(result.Layout), result.Embedding.Tokens);
            Assert.Equal(7, tiled.EncodedImages); // seven views, encoded through the batcher

            // Row block 0 is the page read as one view, exactly what the untiled embedder makes of it.
            EmbeddedImage single = await plain.EmbedAsync(page, "page.png");
            int width = result.Embedding.Width;
            Assert.All(single.Embedding.Values.ToArray().Zip(result.Embedding.Values.Slice(0, perView * width).ToArray()), p => Assert.Equal(p.First, p.Second, 4));

            // The first tile (top left) is embedded as that part of the page alone would be, after the separator.
            using Image<Rgb24> decoded = Image.Load<Rgb24>(page);
            IReadOnlyList<Image<Rgb24>> tiles = ImageTiler.Tiles(decoded, new TileGrid(2, 3), 28);
            try
            {
                float[] tile = plain.Embed(tiles[0]).Values.ToArray();
                float[] got = result.Embedding.Values.Slice((perView + 1) * width, perView * width).ToArray();
                Assert.Equal(tile.Length, got.Length);
                Assert.All(tile.Zip(got), p => Assert.Equal(p.First, p.Second, 4));
            }
            finally
            {
                foreach (Image<Rgb24> t in tiles)
                {
                    t.Dispose();
                }
            }
            Assert.True((await tiled.EmbedAsync(page, "page.png")).Cached);
        }
    }

    [Fact]
    public async Task A_layout_over_the_token_budget_is_refused_before_anything_is_encoded()
    {
        using var projector = new Projector(new ProjectorConfig { InputSize = 32, OutputSize = 16, Tiling = new TilingOptions { MaxTiles = 6 } });
        await using var embedder = new ImageEmbedder(_encoder, projector, _identity, new ImageEmbedderOptions { MaxTokensPerImage = 20 });
        var refused = await Assert.ThrowsAsync<ImageTooLargeForBudgetException>(() => embedder.EmbedAsync(Page(), "page.png"));
        Assert.Contains("page.png: 140x200 read as global+2x3 (7 views of 28px) needs 32 image tokens; at most 20 are allowed per image", refused.Message);
        var context = await Assert.ThrowsAsync<ImageTooLargeForBudgetException>(() => embedder.EmbedAsync(Page(), "page.png", tokenBudget: 10));
        Assert.Contains("10 positions are left in the context", context.Message);
        Assert.Equal(0, embedder.EncodedImages);
        Assert.Equal("image-token-budget", refused.Code);
    }

    [Fact]
    public async Task Auto_tiling_reads_a_flat_picture_as_one_view()
    {
        using var projector = new Projector(new ProjectorConfig { InputSize = 32, OutputSize = 16, Tiling = new TilingOptions { MaxTiles = 6, Selection = TileSelection.Auto } });
        await using var embedder = new ImageEmbedder(_encoder, projector, _identity);
        byte[] flat = TestImages.Encode(TestImages.Make(140, 200, (x, y) => y < 100 ? new Rgb24(200, 30, 30) : new Rgb24(250, 250, 250)), TestImages.Png);
        EmbeddedImage one = await embedder.EmbedAsync(flat, "flat.png");
        Assert.Equal(ViewLayout.GlobalOnly, one.Layout);
        Assert.Equal(4, one.Embedding.Tokens);
        EmbeddedImage page = await embedder.EmbedAsync(Page(), "page.png");
        Assert.True(page.Layout.HasTiles, $"the striped page got {page.Layout}");
    }

    public void Dispose()
    {
        _encoder.Dispose();
        _folder.Dispose();
    }
}
