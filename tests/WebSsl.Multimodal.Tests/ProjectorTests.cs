using System.Runtime.CompilerServices;
using WebSsl.Multimodal.Projectors;
using WebSsl.Vision.Runtime;
using static TorchSharp.torch;

namespace WebSsl.Multimodal.Tests;

internal static class TestSetup
{
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.EnsureInitialized(threads: 2);
}

public sealed class ProjectorTests
{
    [Theory]
    [InlineData("linear", new[] { "weight", "bias" })]
    [InlineData("mlp2x_gelu", new[] { "0.weight", "0.bias", "2.weight", "2.bias" })]
    [InlineData("mlp3x_gelu", new[] { "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias" })]
    public void Parameters_are_named_as_LLaVAs_nn_Sequential_names_them(string type, string[] names)
    {
        using var projector = new Projector(new ProjectorConfig { Type = type, InputSize = 8, OutputSize = 6 });
        Assert.Equal(names, projector.named_parameters().Select(p => p.name));
    }

    [Fact]
    public void Mlp2x_gelu_is_linear_exact_gelu_linear()
    {
        manual_seed(1);
        using var projector = new Projector(new ProjectorConfig { InputSize = 4, OutputSize = 3 });
        var p = projector.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using Tensor x = randn(1, 5, 4);
        using Tensor hidden = x.matmul(p["0.weight"].t()) + p["0.bias"];
        using Tensor gelu = hidden * 0.5 * (1 + special.erf(hidden / Math.Sqrt(2)));
        using Tensor expected = gelu.matmul(p["2.weight"].t()) + p["2.bias"];
        Assert.True(expected.allclose(projector.forward(x), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void The_token_grid_is_resized_bilinearly_before_projecting()
    {
        // A 2x2 grid of values 0, 1, 2, 3 resized to 4x4 with align_corners=False: the first row is 0, .25, .75, 1.
        using Tensor patches = tensor(new float[] { 0, 1, 2, 3 }, [1, 4, 1]);
        using Tensor resized = Projector.ResizeGrid(patches, 4);
        Assert.Equal([1L, 16, 1], resized.shape);
        Assert.Equal(new[] { 0f, 0.25f, 0.75f, 1f }, resized[0, ..4, 0].data<float>().ToArray());
        Assert.Equal(new[] { 2f, 2.25f, 2.75f, 3f }, resized[0, 12.., 0].data<float>().ToArray());
        using var projector = new Projector(new ProjectorConfig { InputSize = 1, OutputSize = 2, TokenGrid = 4 });
        Assert.Equal(16, projector.OutputTokens(4));
        Assert.Equal([1L, 16, 2], projector.forward(patches).shape);
    }

    [Fact]
    public void A_grid_resize_needs_a_square_grid()
    {
        using Tensor patches = zeros(1, 10, 3);
        Assert.Contains("square grid", Assert.Throws<BadInputException>(() => Projector.ResizeGrid(patches, 4)).Message);
    }

    [Theory]
    [InlineData("mlp2x_relu")]
    [InlineData("mlp0x_gelu")]
    [InlineData("identity")]
    public void Unknown_projector_types_are_refused_with_the_known_ones(string type)
    {
        var error = Assert.Throws<BadInputException>(() => new Projector(new ProjectorConfig { Type = type, InputSize = 4, OutputSize = 4 }));
        Assert.Contains("mlp2x_gelu", error.Message);
    }
}

/// <summary>Token merging and the layout of tiled images, as the projector does them.</summary>
public sealed class ProjectorLayoutTests
{
    [Fact]
    public void A_2x2_merge_concatenates_each_block_of_neighbours_into_one_token()
    {
        // A 4x4 grid whose feature is its index: the first merged token is patches 0, 1, 4, 5 (row by row within the block).
        using Tensor patches = arange(16, dtype: ScalarType.Float32).reshape(1, 16, 1);
        using Tensor merged = Projector.MergeTokens(patches, 2);
        Assert.Equal([1L, 4, 4], merged.shape);
        Assert.Equal(new[] { 0f, 1, 4, 5 }, merged[0, 0].data<float>().ToArray());
        Assert.Equal(new[] { 10f, 11, 14, 15 }, merged[0, 3].data<float>().ToArray());

        using var projector = new Projector(new ProjectorConfig { InputSize = 3, OutputSize = 5, TokenMerge = 2 });
        Assert.Equal([5L, 12], projector.named_parameters().First().parameter.shape); // the first Linear reads 4 x 3 features
        Assert.Equal(4, projector.OutputTokens(16));
        Assert.Equal([2L, 4, 5], projector.forward(randn(2, 16, 3)).shape);
    }

    [Fact]
    public void A_merge_needs_a_grid_it_divides()
    {
        Assert.Contains("multiple of 2", Assert.Throws<BadInputException>(() => Projector.MergeTokens(zeros(1, 9, 2), 2)).Message);
        Assert.Contains("divisible by 2", Assert.Throws<BadInputException>(() => new ProjectorConfig { InputSize = 2, OutputSize = 2, TokenGrid = 5, TokenMerge = 2 }.Validate()).Message);
        Assert.Contains("not supported", Assert.Throws<BadInputException>(() => new ProjectorConfig { InputSize = 2, OutputSize = 2, TokenMerge = 1 }.Validate()).Message);
    }

    [Fact]
    public void Tiles_are_laid_out_after_the_global_view_with_a_separator_and_a_row_break_after_each_row()
    {
        using var projector = new Projector(new ProjectorConfig { InputSize = 2, OutputSize = 2, Tiling = new() });
        Assert.Equal(["0.bias", "0.weight", "2.bias", "2.weight", "image_newline", "view_separator"], projector.named_parameters().Select(p => p.name).Order());
        var p = projector.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        // 7 views of 3 tokens, each view's rows filled with its index.
        using Tensor views = arange(7, dtype: ScalarType.Float32).reshape(7, 1, 1).expand(7, 3, 2).contiguous();
        var layout = new WebSsl.Vision.Images.Tiling.ViewLayout(new WebSsl.Vision.Images.Tiling.TileGrid(2, 3));
        using Tensor rows = projector.Arrange(views, layout);
        Assert.Equal(projector.Rows(layout, 3), (int)rows.shape[0]);
        Assert.Equal(3 + 1 + 6 * 3 + 3, (int)rows.shape[0]);
        float[] first = Enumerable.Range(0, (int)rows.shape[0]).Select(i => rows[i, 0].item<float>()).ToArray();
        float sep = p["view_separator"][0].item<float>(), nl = p["image_newline"][0].item<float>();
        Assert.Equal(new[] { 0f, 0, 0, sep, 1, 1, 1, 2, 2, 2, nl, 3, 3, 3, 4, 4, 4, nl, 5, 5, 5, 6, 6, 6, nl }, first);

        // An image that needs no tiles is its global view alone, as without tiling.
        using Tensor one = projector.Arrange(views[..1], WebSsl.Vision.Images.Tiling.ViewLayout.GlobalOnly);
        Assert.Equal([3L, 2], one.shape);
    }
}
