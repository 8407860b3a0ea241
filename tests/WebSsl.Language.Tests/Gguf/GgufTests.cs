using WebSsl.Language.Engine;
using WebSsl.Language.Fixtures;
using WebSsl.Language.Gguf;

namespace WebSsl.Language.Tests.Gguf;

public sealed class GgufTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact]
    public void Metadata_and_tensors_written_read_back_with_their_types()
    {
        string path = _temp.File("round.gguf");
        float[] values = [1.5f, -2.25f, 3f, 0.125f, 7f, -0.5f];
        new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("test.u32", 42u)
            .Add("test.i32", -7)
            .Add("test.f32", 0.5f)
            .Add("test.flag", true)
            .Add("test.strings", ["a", "béta", ""])
            .Add("test.floats", [1f, 2f])
            .Add("test.ints", [3, 4, 5])
            .AddTensor("w32", [3, 2], GgmlType.F32, values)
            .AddTensor("w16", [6], GgmlType.F16, values)
            .AddTensor("wbf", [2, 3], GgmlType.BF16, values)
            .Write(path);

        GgufFile file = GgufFile.Open(path);
        Assert.Equal(3u, file.Version);
        Assert.Equal("llama", file.Architecture);
        Assert.Equal(42u, file.GetUInt32("test.u32"));
        Assert.Equal(-7, file.Get<int>("test.i32"));
        Assert.Equal(0.5f, file.GetFloat32("test.f32"));
        Assert.True(file.Get<bool>("test.flag"));
        Assert.Equal(["a", "béta", ""], file.GetArray<string>("test.strings"));
        Assert.Equal([1f, 2f], file.GetArray<float>("test.floats"));
        Assert.Equal([3, 4, 5], file.GetArray<int>("test.ints"));
        Assert.Equal([3L, 2], file.TensorsByName["w32"].Dimensions);
        Assert.Equal(values, file.ReadTensorFloat32("w32"));
        Assert.Equal(values, file.ReadTensorFloat32("w16")); // these values are exact in half types
        Assert.Equal(values, file.ReadTensorFloat32("wbf"));
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % 32));
        Assert.Equal(0, file.DataStart % 32);
    }

    [Fact]
    public void Q8_0_blocks_hold_an_fp16_scale_and_rounded_bytes_as_ggml_quantizes()
    {
        string path = _temp.File("q8.gguf");
        float[] values = Enumerable.Range(0, 64).Select(i => MathF.Sin(i) * (i < 32 ? 1f : 0.01f)).ToArray();
        new GgufWriter().Add("general.architecture", "llama").AddTensor("q", [64], GgmlType.Q8_0, values).Write(path);
        GgufFile file = GgufFile.Open(path);
        byte[] blocks = file.ReadTensorBytes("q");
        Assert.Equal(2 * 34, blocks.Length);
        for (int b = 0; b < 2; b++)
        {
            float scale = (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(blocks, b * 34));
            float max = values.Skip(b * 32).Take(32).Max(MathF.Abs);
            Assert.Equal((float)(Half)(max / 127f), scale);
            for (int j = 0; j < 32; j++)
            {
                float restored = scale * (sbyte)blocks[b * 34 + 2 + j];
                Assert.True(MathF.Abs(restored - values[b * 32 + j]) <= scale * 0.51f, $"block {b} value {j}");
            }
        }
    }

    [Fact]
    public async Task A_Q8_0_model_loads_and_generates()
    {
        string path = _temp.File("q8-model.gguf");
        TinyLlamaBuilder.WriteRandom(path, LlamaShape.Get("tiny") with { WeightType = GgmlType.Q8_0 });
        Assert.Equal(GgmlType.Q8_0, GgufFile.Open(path).TensorsByName["blk.0.attn_q.weight"].Type);
        using LanguageModel model = LanguageModel.Load(path);
        using var engine = LanguageEngine.Create(model, new EngineOptions { MaxSessions = 1, ContextSize = 512, MaxSessionTokens = 512 });
        using EngineSession session = engine.CreateSession();
        GenerationResult result = await engine.CompleteAsync(session, WebSsl.Language.Prompting.Prompt.FromTokens(model.Tokenize("the chart", true)),
            SamplingOptions.Greedy with { MaxTokens = 4, IgnoreEndOfGeneration = true });
        Assert.Equal(4, result.Usage.GeneratedTokens);
    }

    [Fact]
    public void A_generated_model_has_what_llama_cpp_needs()
    {
        string path = _temp.File("tiny.gguf");
        TinyLlamaBuilder.WriteRandom(path, LlamaShape.Get("tiny-qwen2") with { TiedEmbeddings = true });
        GgufFile file = GgufFile.Open(path);
        Assert.Equal("qwen2", file.Architecture);
        Assert.Equal(2u, file.GetUInt32("qwen2.attention.head_count_kv"));
        Assert.True(file.TensorsByName.ContainsKey("blk.1.attn_q.bias"));
        Assert.False(file.TensorsByName.ContainsKey("output.weight"));
        Assert.Equal([64L, TinyVocabulary.Create().Count], file.TensorsByName["token_embd.weight"].Dimensions);
        Assert.Contains("<|im_start|>", file.GetString("tokenizer.chat_template"));
        using LanguageModel model = LanguageModel.Load(path);
        Assert.Equal(64, model.EmbeddingSize);
    }

    [Fact]
    public void A_file_that_is_not_gguf_is_refused()
    {
        string path = _temp.File("model.gguf");
        File.WriteAllText(path, "<html>404 Not Found</html> and some more bytes to be long enough");
        var error = Assert.Throws<GgufException>(() => GgufFile.Open(path));
        Assert.Contains("not a GGUF file", error.Message);
        Assert.StartsWith(path, error.Message);
    }

    [Theory]
    [InlineData(0.5)]   // cut in the middle of the tensor data
    [InlineData(0.02)]  // cut inside the metadata
    public void A_truncated_file_is_refused_naming_what_is_missing(double keep)
    {
        string path = _temp.File("cut.gguf");
        TinyLlamaBuilder.WriteRandom(path, LlamaShape.Get("tiny"));
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keep)]);
        var error = Assert.Throws<GgufException>(() => GgufFile.Open(path));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void An_absurd_count_in_the_header_is_refused_before_allocating()
    {
        string path = _temp.File("count.gguf");
        using (var writer = new BinaryWriter(File.Create(path)))
        {
            writer.Write(GgufFile.Magic);
            writer.Write(3u);
            writer.Write(0UL);
            writer.Write(ulong.MaxValue / 2);
        }
        var error = Assert.Throws<GgufException>(() => GgufFile.Open(path));
        Assert.Contains("cannot fit", error.Message);
    }

    [Fact]
    public void An_unknown_tensor_type_is_refused()
    {
        string path = _temp.File("type.gguf");
        new GgufWriter().Add("general.architecture", "llama").AddTensor("w", [4], GgmlType.F32, new float[4]).Write(path);
        byte[] bytes = File.ReadAllBytes(path);
        // The tensor info ends with u32 type then u64 offset; the type sits 12 bytes before the end of the header.
        int typeOffset = FindTensorTypeOffset(bytes, "w");
        BitConverter.TryWriteBytes(bytes.AsSpan(typeOffset), 99u);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<GgufException>(() => GgufFile.Open(path));
        Assert.Contains("unknown ggml type 99", error.Message);
    }

    [Theory]
    [InlineData("llama.attention.head_count", "is missing")]
    [InlineData("tokenizer.ggml.tokens", "is missing")]
    [InlineData("llama.embedding_length", "is missing")]
    public void Missing_metadata_is_named(string key, string expected)
    {
        string path = _temp.File("missing.gguf");
        TinyLlamaBuilder.Build(LlamaShape.Get("tiny"), new Random(1), null).Remove(key).Write(path);
        var error = Assert.Throws<GgufException>(() => LanguageModel.Load(path));
        Assert.Contains($"'{key}' {expected}", error.Message);
    }

    [Fact]
    public void Metadata_of_the_wrong_type_is_refused_as_llama_cpp_would()
    {
        string path = _temp.File("type.gguf");
        TinyLlamaBuilder.Build(LlamaShape.Get("tiny"), new Random(1), null).Add("llama.block_count", 2).Write(path);
        var error = Assert.Throws<GgufException>(() => LanguageModel.Load(path));
        Assert.Contains("'llama.block_count' has type Int32, llama.cpp requires u32", error.Message);
    }

    [Fact]
    public void An_architecture_llama_cpp_does_not_know_gets_llama_cpps_reason()
    {
        string path = _temp.File("arch.gguf");
        GgufWriter writer = TinyLlamaBuilder.Build(LlamaShape.Get("tiny"), new Random(1), null).Add("general.architecture", "webssl-imaginary");
        writer.Add("webssl-imaginary.embedding_length", 64u).Add("webssl-imaginary.block_count", 2u).Write(path);
        var error = Assert.Throws<GgufException>(() => LanguageModel.Load(path));
        Assert.Contains("llama.cpp could not load it (architecture 'webssl-imaginary')", error.Message);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_is_refused_by_llama_cpp_with_a_clear_error()
    {
        string path = _temp.File("shape.gguf");
        TinyLlamaBuilder.Build(LlamaShape.Get("tiny") with { FeedForwardLength = 96 }, new Random(1), null)
            .Add("llama.feed_forward_length", 128u) // metadata no longer matches the ffn tensors
            .Write(path);
        var error = Assert.Throws<GgufException>(() => LanguageModel.Load(path));
        Assert.Contains("llama.cpp could not load it", error.Message);
        Assert.Contains("ffn", error.Message);
    }

    [Fact]
    public void A_model_of_another_width_than_the_projector_expects_is_refused()
    {
        string path = _temp.File("width.gguf");
        TinyLlamaBuilder.WriteRandom(path, LlamaShape.Get("tiny"));
        var error = Assert.Throws<GgufException>(() => LanguageModel.Load(path, new LanguageModelOptions { ExpectedEmbeddingSize = 896 }));
        Assert.Contains("n_embd) is 64, but 896 was expected", error.Message);
    }

    [Fact]
    public async Task After_bad_files_the_next_good_model_still_loads_and_generates()
    {
        string bad = _temp.File("bad.gguf"), good = _temp.File("good.gguf");
        File.WriteAllBytes(bad, [0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]);
        Assert.Throws<GgufException>(() => LanguageModel.Load(bad));
        TinyLlamaBuilder.WriteRandom(good, LlamaShape.Get("tiny"));
        using LanguageModel model = LanguageModel.Load(good);
        using var engine = LanguageEngine.Create(model, new EngineOptions { MaxSessions = 1, ContextSize = 512, MaxSessionTokens = 512 });
        using EngineSession session = engine.CreateSession();
        GenerationResult result = await engine.CompleteAsync(session, WebSsl.Language.Prompting.Prompt.FromTokens(model.Tokenize("hello", true)), SamplingOptions.Greedy with { MaxTokens = 3 });
        Assert.True(result.FinishReason == FinishReason.Length ? result.Usage.GeneratedTokens == 3 : result.FinishReason == FinishReason.EndOfGeneration);
    }

    private static int FindTensorTypeOffset(byte[] bytes, string name)
    {
        byte[] needle = [.. BitConverter.GetBytes((ulong)name.Length), .. System.Text.Encoding.UTF8.GetBytes(name)];
        int at = bytes.AsSpan().LastIndexOf(needle);
        return at + needle.Length + 4 + 8; // n_dims (u32) + one dimension (u64)
    }

    public void Dispose() => _temp.Dispose();
}
