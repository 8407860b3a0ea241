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
