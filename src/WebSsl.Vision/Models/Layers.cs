using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace WebSsl.Vision.Models;

/// <summary>
/// Where a model's parameters are created: device and element type. Models are built directly on their device and in
/// their compute type and never moved afterwards (moving would allocate a second copy while loading, and would break the
/// views that fuse query/key/value into one matrix).
/// </summary>
public sealed record ParameterFactory(Device Device, ScalarType DType)
{
    /// <summary>
    /// An uninitialized parameter: every value comes from the checkpoint, so random initialization (seconds of CPU for a
    /// 7B encoder, and never used) is skipped.
    /// </summary>
    public Parameter Empty(params long[] shape) => new(Allocate(shape), requires_grad: false);

    /// <summary>Uninitialized storage for weights, hinted to use huge pages (see <see cref="Runtime.HugePages"/>).</summary>
    public Tensor Allocate(params long[] shape)
    {
        Tensor tensor = empty(shape, DType, Device);
        Runtime.HugePages.Advise(tensor);
        return tensor;
    }
}

/// <summary>nn.Linear with checkpoint-filled <c>weight</c> [out, in] and optional <c>bias</c> [out].</summary>
public sealed class Linear : nn.Module<Tensor, Tensor>
{
    public Linear(ParameterFactory factory, long inFeatures, long outFeatures, bool hasBias = true)
        : this(factory.Empty(outFeatures, inFeatures), hasBias ? factory.Empty(outFeatures) : null)
    {
    }

    /// <summary>Wraps existing tensors, e.g. views into a fused matrix (see <see cref="VisionSelfAttention"/>).</summary>
    public Linear(Parameter weight, Parameter? bias) : base(nameof(Linear))
    {
        this.weight = weight;
        this.bias = bias;
        register_parameter(nameof(weight), weight);
        if (bias is not null)
        {
            register_parameter(nameof(bias), bias);
        }
    }

    public readonly Parameter weight;
    public readonly Parameter? bias;

    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight, bias);
}

/// <summary>nn.LayerNorm over the last dimension with checkpoint-filled <c>weight</c> and <c>bias</c>.</summary>
public sealed class LayerNorm : nn.Module<Tensor, Tensor>
{
    private readonly long[] _shape;
    private readonly double _eps;

    public LayerNorm(ParameterFactory factory, long size, double eps) : base(nameof(LayerNorm))
    {
        _shape = [size];
        _eps = eps;
        weight = factory.Empty(size);
        bias = factory.Empty(size);
        register_parameter(nameof(weight), weight);
        register_parameter(nameof(bias), bias);
    }

    public readonly Parameter weight;
    public readonly Parameter bias;

    public override Tensor forward(Tensor input) => nn.functional.layer_norm(input, _shape, weight, bias, _eps);
}

/// <summary>The patchifying nn.Conv2d (kernel = stride = patch size) with checkpoint-filled weights.</summary>
public sealed class PatchConv2d : nn.Module<Tensor, Tensor>
{
    private readonly long[] _stride;

    public PatchConv2d(ParameterFactory factory, long channels, long hidden, long patch) : base(nameof(PatchConv2d))
    {
        _stride = [patch, patch];
        weight = factory.Empty(hidden, channels, patch, patch);
        bias = factory.Empty(hidden);
        register_parameter(nameof(weight), weight);
        register_parameter(nameof(bias), bias);
    }

    public readonly Parameter weight;
    public readonly Parameter bias;

    public override Tensor forward(Tensor input) => nn.functional.conv2d(input, weight, bias, strides: _stride);
}
