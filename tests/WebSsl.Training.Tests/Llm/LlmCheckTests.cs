using WebSsl.Language;
using WebSsl.Language.Fixtures;
using WebSsl.Language.Gguf;
using WebSsl.Training.Llm;

namespace WebSsl.Training.Tests.Llm;

/// <summary>The TorchSharp decoder computes what llama.cpp computes from the same GGUF.</summary>
public sealed class LlmCheckTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory]
    [InlineData("tiny", GgmlType.F32, false)]
    [InlineData("tiny", GgmlType.F32, true)]
    [InlineData("tiny-qwen2", GgmlType.F32, false)]
    [InlineData("tiny-qwen2", GgmlType.F32, true)]
    public async Task Float32_llama_and_qwen2_agree_with_llama_cpp_within_1e_3(string shape, GgmlType type, bool tied)
    {
        LlmCheckReport report = await Check(LlamaShape.Get(shape) with { WeightType = type, TiedEmbeddings = tied });
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(new LlmCheckCriterion(1e-3, Relative: false), report.Criterion);
        Assert.Equal(8, report.ImagePositions);
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    public async Task Half_and_quantized_weights_agree_within_their_bounds(GgmlType type)
    {
        LlmCheckReport report = await Check(LlamaShape.Get("tiny-qwen2") with { WeightType = type });
        Assert.True(report.Passed, report.ToString());
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.BF16)]
    public async Task Weights_quantized_by_ggml_are_dequantized_by_ggml_and_agree(GgmlType type)
    {
        // K-quants need rows of 256 values: a 256-wide model with small, trained-like embeddings.
        LlmCheckReport report = await Check(LlamaShape.Get("tiny") with
        {
            EmbeddingLength = 256, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 512, WeightType = type, TokenEmbeddingStd = 0.02, OutputWeightStd = 0.2,
        });
        Assert.True(report.Passed, report.ToString());
        Assert.Contains(type.ToString(), report.WeightTypes);
    }

    [Fact]
    public void Rope_variants_the_copy_does_not_implement_are_refused_by_name()
    {
        string path = _temp.File("scaled.gguf");
        TinyLlamaBuilder.Build(LlamaShape.Get("tiny"), new Random(1), null).Add("llama.rope.scaling.type", "linear").Add("llama.rope.scaling.factor", 4f).Write(path);
        var error = Assert.Throws<GgufException>(() => GgufLlama.Load(GgufFile.Open(path)));
        Assert.Contains("rope scaling 'linear'", error.Message);
    }

    [Fact]
    public async Task Rope_in_the_wrong_pairing_is_caught()
    {
        // A qwen2 file whose decoder is told to rotate adjacent pairs (llama's way) must fail the check.
        string path = _temp.File("qwen2.gguf");
        TinyLlamaBuilder.WriteRandom(path, LlamaShape.Get("tiny-qwen2"));
        using LanguageModel model = LanguageModel.Load(path);
        using GgufLlama wrong = GgufLlamaWithRope(model.Gguf, neox: false);
        LlmCheckReport report = await LlmCheck.RunAsync(model, wrong);
        Assert.False(report.Passed, report.ToString());
    }

    [Fact]
    public void Ggml_dequantizes_Q8_0_to_scale_times_byte()
    {
        string path = _temp.File("q8.gguf");
        float[] values = Enumerable.Range(0, 64).Select(i => MathF.Cos(i * 0.3f)).ToArray();
        new GgufWriter().Add("general.architecture", "llama").AddTensor("q", [64], GgmlType.Q8_0, values).Write(path);
        GgufFile file = GgufFile.Open(path);
        byte[] blocks = file.ReadTensorBytes("q");
        float[] restored = GgmlDequantizer.ReadFloat32(file, "q");
        for (int i = 0; i < 64; i++)
        {
            float scale = (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(blocks, i / 32 * 34));
            Assert.Equal(scale * (sbyte)blocks[i / 32 * 34 + 2 + i % 32], restored[i]);
        }
    }

    private async Task<LlmCheckReport> Check(LlamaShape shape)
    {
        string path = _temp.File(Guid.NewGuid().ToString("N")[..8] + ".gguf");
        TinyLlamaBuilder.WriteRandom(path, shape, seed: 3);
        using LanguageModel model = LanguageModel.Load(path);
        using GgufLlama llama = GgufLlama.Load(model.Gguf);
        return await LlmCheck.RunAsync(model, llama);
    }

    private static GgufLlama GgufLlamaWithRope(GgufFile gguf, bool neox) => GgufLlama.Load(gguf, hyper: LlamaHyperparameters.From(gguf) with { NeoxRope = neox });

    public void Dispose() => _temp.Dispose();
}
