using static TorchSharp.torch;

namespace WebSsl.Vision.Tests;

internal static class TensorAssert
{
    /// <summary>Same shape and bit-for-bit equal values (TorchSharp's Tensor.equal is elementwise, not torch.equal).</summary>
    public static void Identical(Tensor expected, Tensor actual, string? what = null)
    {
        Assert.Equal(expected.shape, actual.shape);
        using Tensor same = expected.eq(actual).all();
        Assert.True(same.item<bool>(), $"{what ?? "tensor"} differs");
    }
}
