using WebSsl.Language;
using WebSsl.Language.Fixtures;
using WebSsl.Language.Gguf;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Embedding;
using WebSsl.Multimodal.Projectors;
using WebSsl.Vision;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Images;
using static TorchSharp.torch;

namespace WebSsl.Multimodal.Tests;

public sealed class AdapterTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("webssl-adapter-tests-").FullName;
    private readonly VisionEncoder _encoder;
    private readonly string _llmPath;

    public AdapterTests()
    {
        string encoderDir = Path.Combine(_root, "encoder");
        CheckpointGenerator.Write(encoderDir, CheckpointGenerator.Shapes["tiny"]);
        _encoder = VisionEncoder.Load(encoderDir);
        _llmPath = Path.Combine(_root, "llm.gguf");
        TinyLlamaBuilder.WriteRandom(_llmPath, LlamaShape.Get("tiny"));
    }

    private static readonly PreprocessOptions Pad = new() { Mode = PreprocessMode.Pad };

    private Adapter NewAdapter(GgufFile llm)
    {
        manual_seed(3);
        var config = new ProjectorConfig { InputSize = 32, OutputSize = 64 };
        return new Adapter(new AdapterManifest
        {
            Projector = config,
            Encoder = Identities.Of(_encoder, FeatureSelection.Default, Pad),
            Llm = Identities.Of(llm),
        }, new Projector(config));
    }

    [Fact]
    public void An_adapter_round_trips_and_loads_against_the_models_it_was_made_for()
    {
        GgufFile llm = GgufFile.Open(_llmPath);
        string folder = Path.Combine(_root, "adapter");
        using (Adapter adapter = NewAdapter(llm))
        {
            adapter.Save(folder);
        }
        using Adapter loaded = Adapter.Load(folder, Identities.Of(_encoder, FeatureSelection.Default, Pad), Identities.Of(llm));
        using Adapter fresh = NewAdapter(llm);
        foreach (var ((name, a), (_, b)) in fresh.Projector.named_parameters().Zip(loaded.Projector.named_parameters()))
        {
            Assert.True(a.equal(b).all().item<bool>(), name);
        }
        Assert.Equal("pad", loaded.Manifest.Encoder.Preprocess);
        Assert.Equal(9, ImageEmbedder.ForAdapter(_encoder, loaded).TokensPerImage);
    }

    [Fact]
    public void Another_encoder_or_llm_is_refused_naming_every_field_that_differs()
    {
        GgufFile llm = GgufFile.Open(_llmPath);
        string folder = Path.Combine(_root, "adapter-mismatch");
        using (Adapter adapter = NewAdapter(llm))
        {
            adapter.Save(folder);
        }
        string otherLlm = Path.Combine(_root, "other.gguf");
        TinyLlamaBuilder.WriteRandom(otherLlm, LlamaShape.Get("tiny") with { EmbeddingLength = 96, HeadCount = 4, VocabularySize = 1000 });
        var crop = Identities.Of(_encoder, new FeatureSelection { Layer = -2 }, new PreprocessOptions());
        var error = Assert.Throws<AdapterMismatchException>(() => Adapter.Load(folder, crop, Identities.Of(GgufFile.Open(otherLlm))));
        Assert.Contains(error.Differences, d => d.StartsWith("encoder.feature_layer: the adapter was trained with -1, this one has -2"));
        Assert.Contains(error.Differences, d => d.StartsWith("encoder.preprocess: the adapter was trained with pad, this one has crop"));
        Assert.Contains(error.Differences, d => d.StartsWith("llm.n_embd: the adapter was trained with 64, this one has 96"));
        Assert.Contains(error.Differences, d => d.StartsWith("llm.vocab_size"));
        Assert.Contains(error.Differences, d => d.StartsWith("llm.token_list_hash"));
    }

    [Fact]
    public void The_same_llm_in_another_quantization_is_accepted()
    {
        GgufFile llm = GgufFile.Open(_llmPath);
        string folder = Path.Combine(_root, "adapter-quant");
        using (Adapter adapter = NewAdapter(llm))
        {
            adapter.Save(folder);
        }
        string q8 = Path.Combine(_root, "llm-q8_0.gguf");
        TinyLlamaBuilder.WriteRandom(q8, LlamaShape.Get("tiny") with { WeightType = GgmlType.Q8_0 });
        LlmIdentity quantized = Identities.Of(GgufFile.Open(q8));
        Assert.NotEqual(Identities.Of(llm).FileType, quantized.FileType);
        using Adapter loaded = Adapter.Load(folder, llm: quantized);
    }

    [Fact]
    public void Projector_weights_of_the_wrong_shape_or_missing_are_refused()
    {
        GgufFile llm = GgufFile.Open(_llmPath);
        string folder = Path.Combine(_root, "adapter-broken");
        using (Adapter adapter = NewAdapter(llm))
        {
            adapter.Save(folder);
        }
        string weights = Path.Combine(folder, Adapter.WeightsFile);
        SafetensorsWriter.Write(weights, [KeyValuePair.Create("0.weight", zeros(64, 32)), KeyValuePair.Create("0.bias", zeros(64)), KeyValuePair.Create("2.weight", zeros(64, 65))]);
        var error = Assert.Throws<CheckpointException>(() => Adapter.Load(folder));
        Assert.Equal("2.weight", error.Key);
        Assert.Contains("expected [64, 64]", error.Message);

        File.Delete(Path.Combine(folder, Adapter.ManifestFile));
        Assert.Contains("not an adapter folder", Assert.Throws<FileNotFoundException>(() => Adapter.Load(folder)).Message);
    }

    public void Dispose()
    {
        _encoder.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
