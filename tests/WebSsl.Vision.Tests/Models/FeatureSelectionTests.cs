using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Models;
using static TorchSharp.torch;

namespace WebSsl.Vision.Tests.Models;

/// <summary>What downstream users (projectors, feature files) take from the encoder.</summary>
public sealed class FeatureSelectionTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly VisionEncoder _encoder;

    public FeatureSelectionTests()
    {
        CheckpointGenerator.Write(_temp.Path, CheckpointGenerator.Shapes["tiny"]);
        _encoder = VisionEncoder.Load(_temp.Path, new VisionEncoderOptions { MaxBatchSize = 2 });
    }

    private Tensor[] Images(int count) =>
        Enumerable.Range(0, count).Select(i => ForwardEquivalenceTests.RandomPixels(1, 42, 42, seed: 100 + i)[0]).ToArray();

    [Fact]
    public void Patch_tokens_of_a_layer_counted_as_transformers_counts_hidden_states()
    {
        Tensor[] images = Images(1);
        using Tensor features = _encoder.EncodeFeatures(images, new FeatureSelection { Layer = -1 });
        using EncoderOutput output = _encoder.Forward(images[0], new EncoderRequest { AllHiddenStates = true });
        Assert.Equal([1L, 9, 32], features.shape);                                     // 3x3 patches, CLS dropped
        TensorAssert.Identical(output.HiddenStates[2][.., 1..], features);            // -1 = output of the last block
    }

    [Fact]
    public void The_normed_last_hidden_state_with_cls_is_available_too()
    {
        Tensor[] images = Images(1);
        using Tensor features = _encoder.EncodeFeatures(images, new FeatureSelection { Layer = null, KeepCls = true });
        using EncoderOutput output = _encoder.Forward(images[0], EncoderRequest.LastOnly);
        TensorAssert.Identical(output.LastHiddenState!, features);
    }

    [Fact]
    public void Images_are_encoded_in_batches_with_the_same_result_as_one_by_one()
    {
        Tensor[] images = Images(5);
        using Tensor together = _encoder.EncodeFeatures(images, new FeatureSelection { Layer = 1 });
        Assert.Equal(5, together.shape[0]);
        for (int i = 0; i < images.Length; i++)
        {
            using Tensor alone = _encoder.EncodeFeatures([images[i]], new FeatureSelection { Layer = 1 });
            Assert.True(alone[0].allclose(together[i], rtol: 1e-5, atol: 1e-6), $"image {i}");
        }
    }

    [Fact]
    public void Cancellation_is_checked_between_batches()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        Assert.Throws<OperationCanceledException>(() => _encoder.EncodeFeatures(Images(3), cancellationToken: cancellation.Token));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-4)]
    public void A_layer_outside_hidden_states_is_refused_with_the_valid_range(int layer)
    {
        var error = Assert.Throws<BadInputException>(() => _encoder.EncodeFeatures(Images(1), new FeatureSelection { Layer = layer }));
        Assert.Contains("hidden_states has 3 entries", error.Message);
    }

    public void Dispose()
    {
        _encoder.Dispose();
        _temp.Dispose();
    }
}
