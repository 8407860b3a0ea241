using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Models;
using WebSsl.Vision.Tests.Reference;
using static TorchSharp.torch;

namespace WebSsl.Vision.Tests.Models;

/// <summary>The TorchSharp encoder against the loop-based reference, on generated checkpoints in the HF layout.</summary>
public sealed class ForwardEquivalenceTests : IDisposable
{
    // float32 against float64 through a few layers of O(1) activations.
    private const double Tolerance = 2e-5;

    private readonly TempDirectory _temp = new();

    [Fact]
    public void Dinov2_with_SwiGLU_and_layer_scale_matches_the_reference_at_the_native_resolution()
    {
        string dir = Write(CheckpointGenerator.Dino(32, 2, 4, 42, swiglu: true));
        AssertMatchesReference(dir, RandomPixels(batch: 1, 42, 42, seed: 1));
    }

    [Fact]
    public void Dinov2_with_a_GELU_MLP_matches_the_reference()
    {
        string dir = Write(CheckpointGenerator.Dino(24, 2, 3, 28, swiglu: false));
        AssertMatchesReference(dir, RandomPixels(batch: 1, 28, 28, seed: 2));
    }

    [Fact]
    public void WebMae_ViT_with_patch_16_and_its_pooler_matches_the_reference()
    {
        string dir = Write(CheckpointGenerator.Vit(32, 2, 4, 64, image: 32, patch: 16));
        AssertMatchesReference(dir, RandomPixels(batch: 1, 32, 32, seed: 3));
    }

    [Theory]
    [InlineData(56, 56)] // upsampled square grid 3x3 -> 4x4
    [InlineData(28, 70)] // non-square 2x5
    [InlineData(14, 14)] // downsampled to a single patch
    public void Position_embeddings_are_interpolated_bicubically_for_other_resolutions(int height, int width)
    {
        string dir = Write(CheckpointGenerator.Dino(32, 2, 4, 42, swiglu: true));
        AssertMatchesReference(dir, RandomPixels(batch: 1, height, width, seed: 4));
    }

    [Fact]
    public void A_batch_of_different_images_gives_each_image_its_own_result()
    {
        string dir = Write(CheckpointGenerator.Dino(32, 2, 4, 42, swiglu: true));
        AssertMatchesReference(dir, RandomPixels(batch: 3, 42, 42, seed: 5));
    }

    [Fact]
    public void Web_mae_patch_14_variant_and_interpolation_match_the_reference()
    {
        string dir = Write(CheckpointGenerator.Vit(32, 1, 2, 48, image: 28, patch: 14));
        AssertMatchesReference(dir, RandomPixels(batch: 2, 42, 28, seed: 6));
    }

    [Fact]
    public void Computation_stops_after_the_deepest_requested_block()
    {
        string dir = Write(CheckpointGenerator.Dino(32, 3, 4, 42));
        using VisionEncoder encoder = VisionEncoder.Load(dir);
        using Tensor pixels = RandomPixels(1, 42, 42, seed: 7);
        using EncoderOutput early = encoder.Forward(pixels, new EncoderRequest { LastHiddenState = false, HiddenStates = [1] });
        using EncoderOutput full = encoder.Forward(pixels, new EncoderRequest { AllHiddenStates = true });
        Assert.Null(early.LastHiddenState);
        Assert.Equal([1], early.HiddenStates.Keys);
        Assert.True(early.HiddenStates[1].allclose(full.HiddenStates[1]));
        Assert.Equal(4, full.HiddenStates.Count);
    }

    private string Write(VisionConfig config)
    {
        string dir = _temp.Sub(Guid.NewGuid().ToString("N")[..8]);
        CheckpointGenerator.Write(dir, config);
        return dir;
    }

    internal static Tensor RandomPixels(int batch, int height, int width, int seed)
    {
        var generator = new Generator((ulong)seed);
        return randn([batch, 3, height, width], generator: generator);
    }

    private static void AssertMatchesReference(string dir, Tensor pixels)
    {
        var reference = new ReferenceVisionTransformer(dir);
        using VisionEncoder encoder = VisionEncoder.Load(dir);
        using EncoderOutput output = encoder.Forward(pixels, new EncoderRequest { AllHiddenStates = true });
        Assert.Equal(encoder.Config.NumHiddenLayers + 1, output.HiddenStates.Count);
        for (int b = 0; b < pixels.shape[0]; b++)
        {
            var (hidden, last) = reference.Forward(ToArray(pixels[b]));
            for (int layer = 0; layer < hidden.Count; layer++)
            {
                AssertClose(hidden[layer], output.HiddenStates[layer][b], $"hidden_states[{layer}] of image {b}");
            }
            AssertClose(last, output.LastHiddenState![b], $"last_hidden_state of image {b}");
        }
    }

    private static double[,,] ToArray(Tensor image)
    {
        double[] flat = image.to(ScalarType.Float64).data<double>().ToArray();
        int c = (int)image.shape[0], h = (int)image.shape[1], w = (int)image.shape[2];
        var result = new double[c, h, w];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }

    internal static void AssertClose(double[,] expected, Tensor actual, string what)
    {
        Assert.Equal([expected.GetLength(0), expected.GetLength(1)], actual.shape);
        float[] values = actual.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        double worst = 0;
        for (int t = 0; t < expected.GetLength(0); t++)
        {
            for (int i = 0; i < expected.GetLength(1); i++)
            {
                worst = Math.Max(worst, Math.Abs(expected[t, i] - values[t * expected.GetLength(1) + i]));
            }
        }
        Assert.True(worst < Tolerance, $"{what}: max |difference| {worst:E2} exceeds {Tolerance:E0}");
    }

    public void Dispose() => _temp.Dispose();
}
