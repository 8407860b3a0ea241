using WebSsl.Language.Gguf;

namespace WebSsl.Language.Fixtures;

/// <summary>The shape and storage of a generated llama / qwen2 GGUF.</summary>
public sealed record LlamaShape
{
    /// <summary>llama or qwen2 (qwen2 adds q/k/v biases).</summary>
    public string Architecture { get; init; } = "llama";
    public int EmbeddingLength { get; init; } = 64;
    public int BlockCount { get; init; } = 2;
    public int HeadCount { get; init; } = 4;
    public int HeadCountKv { get; init; } = 2;
    public int FeedForwardLength { get; init; } = 128;
    public int ContextLength { get; init; } = 4096;
    public float RmsEpsilon { get; init; } = 1e-5f;
    public float RopeFreqBase { get; init; } = 10000f;

    /// <summary>No output.weight: llama.cpp then uses token_embd as the output projection.</summary>
    public bool TiedEmbeddings { get; init; }

    public GgmlType WeightType { get; init; } = GgmlType.F32;

    /// <summary>
    /// Standard deviation of random token embeddings. 1 keeps rows nearly orthogonal (successor models need that); trained
    /// LLMs have small embeddings (~0.02) next to what their blocks add, which is what lets soft prompts (image tokens)
    /// steer them, so models for projector-training tests use a small value.
    /// </summary>
    public double TokenEmbeddingStd { get; init; } = 1.0;

    /// <summary>Standard deviation of a random output.weight; null = 1/sqrt(n_embd). Larger values give confident logits.</summary>
    public double? OutputWeightStd { get; init; }

    /// <summary>Pad the vocabulary with unused tokens up to this size (0 = only the real vocabulary).</summary>
    public int VocabularySize { get; init; }

    /// <summary>Extra whole-word tokens for the vocabulary (see <see cref="TinyVocabulary.Create"/>).</summary>
    public IReadOnlyList<string>? Words { get; init; }

    public int HeadDim => EmbeddingLength / HeadCount;

    /// <summary>Generated shapes by name: tiny ones for tests, and real model shapes for benchmarks.</summary>
    public static IReadOnlyDictionary<string, LlamaShape> Named { get; } = new Dictionary<string, LlamaShape>(StringComparer.OrdinalIgnoreCase)
    {
        ["tiny"] = new(),
        ["tiny-qwen2"] = new() { Architecture = "qwen2" },
        // Qwen2.5-0.5B-Instruct: 24 layers, 896 wide, 14 heads, 2 KV heads, FFN 4864, 151936 tokens, tied embeddings;
        // stored Q8_0 like the GGUF most users run; small embeddings like a trained model's (with N(0, 1) embeddings
        // llama.cpp's 8-bit activation rounding is amplified by the random layers beyond what any real model shows).
        ["qwen2.5-0.5b"] = new()
        {
            Architecture = "qwen2", EmbeddingLength = 896, BlockCount = 24, HeadCount = 14, HeadCountKv = 2, FeedForwardLength = 4864,
            ContextLength = 32768, RmsEpsilon = 1e-6f, RopeFreqBase = 1_000_000f, TiedEmbeddings = true, WeightType = GgmlType.Q8_0,
            VocabularySize = 151_936, TokenEmbeddingStd = 0.02,
        },
    };

    public static LlamaShape Get(string name) => Named.TryGetValue(name, out LlamaShape? shape)
        ? shape
        : throw new BadInputException($"LLM shape '{name}' is not known; use one of {string.Join(", ", Named.Keys)}.");
}

/// <summary>
/// Writes real, loadable llama / qwen2 GGUF models with the <see cref="TinyVocabulary"/> and a ChatML chat template:
/// random weights (for numerics, batching and speed tests) or a "successor" model whose greedy continuation of any token
/// is a chosen next token (for tests that need to know exactly what will be generated).
/// </summary>
public static class TinyLlamaBuilder
{
    /// <summary>The ChatML template as Qwen ships it; llama.cpp recognizes it by its &lt;|im_start|&gt; markers.</summary>
    public const string ChatMlTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    public static void WriteRandom(string path, LlamaShape shape, int seed = 7) =>
        Build(shape, new Random(seed), successor: null).Write(path);

    /// <summary>
    /// A model whose blocks add nothing (zero attention and FFN output projections), so the last position's logits depend
    /// only on the current token: logits = output · rmsnorm(embedding). Output rows are sums of the embeddings of the tokens
    /// that lead to them, so greedy decoding follows <paramref name="successor"/> (keep each target's sources few: every
    /// extra source adds noise to that row). What follows an unmapped token is unspecified.
    /// </summary>
    public static void WriteSuccessor(string path, IReadOnlyDictionary<int, int> successor, LlamaShape? shape = null, int seed = 7) =>
        Build((shape ?? new LlamaShape()) with { EmbeddingLength = Math.Max(128, (shape ?? new LlamaShape()).EmbeddingLength), TiedEmbeddings = false },
            new Random(seed), successor).Write(path);

    /// <summary>The metadata and tensors of a model, ready to write (tests edit it to produce broken files).</summary>
    public static GgufWriter Build(LlamaShape shape, Random random, IReadOnlyDictionary<int, int>? successor)
    {
        TinyVocabulary vocabulary = TinyVocabulary.Create(shape.Words);
        int vocab = Math.Max(vocabulary.Count, shape.VocabularySize);
        int d = shape.EmbeddingLength, kv = shape.HeadCountKv * shape.HeadDim, ff = shape.FeedForwardLength;
        string arch = shape.Architecture;
        var writer = new GgufWriter()
            .Add("general.architecture", arch)
            .Add("general.name", $"webssl-generated-{arch}")
            .Add("general.file_type", shape.WeightType switch { GgmlType.F16 => 1u, GgmlType.Q8_0 => 7u, GgmlType.BF16 => 32u, _ => 0u })
            .Add($"{arch}.context_length", (uint)shape.ContextLength)
            .Add($"{arch}.embedding_length", (uint)d)
            .Add($"{arch}.block_count", (uint)shape.BlockCount)
            .Add($"{arch}.feed_forward_length", (uint)ff)
            .Add($"{arch}.attention.head_count", (uint)shape.HeadCount)
            .Add($"{arch}.attention.head_count_kv", (uint)shape.HeadCountKv)
            .Add($"{arch}.attention.layer_norm_rms_epsilon", shape.RmsEpsilon)
            .Add($"{arch}.rope.freq_base", shape.RopeFreqBase)
            .Add($"{arch}.rope.dimension_count", (uint)shape.HeadDim);
        AddTokenizer(writer, vocabulary, vocab);

        float[] Normal(long count, double std)
        {
            var values = new float[count];
            for (long i = 0; i < count; i++)
            {
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                values[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
            return values;
        }
        float[] Ones(int count) => Enumerable.Repeat(1f, count).ToArray();
        float[] Zeros(long count) => new float[count];
        // Weights are drawn when the writer asks for them (in file order, so still deterministic): a 0.5B model never
        // has to sit in memory as float32.
        void Tensor(string name, long[] dims, Func<float[]> values, bool isNorm = false) =>
            writer.AddTensor(name, dims, isNorm ? GgmlType.F32 : shape.WeightType, () => values());
        Func<float[]> Drawn(long count, double std) => () => Normal(count, std);

        // Embeddings ~ N(0, 1) so rows are nearly orthogonal at this width; projections ~ N(0, 1/fan_in).
        float[]? embeddings = successor is null ? null : Normal((long)vocab * d, 1.0);
        Tensor("token_embd.weight", [d, vocab], embeddings is null ? Drawn((long)vocab * d, shape.TokenEmbeddingStd) : () => embeddings);
        for (int b = 0; b < shape.BlockCount; b++)
        {
            string p = $"blk.{b}.";
            Tensor(p + "attn_norm.weight", [d], () => Ones(d), isNorm: true);
            Tensor(p + "attn_q.weight", [d, d], Drawn((long)d * d, 1 / Math.Sqrt(d)));
            Tensor(p + "attn_k.weight", [d, kv], Drawn((long)d * kv, 1 / Math.Sqrt(d)));
            Tensor(p + "attn_v.weight", [d, kv], Drawn((long)d * kv, 1 / Math.Sqrt(d)));
            if (arch == "qwen2")
            {
                Tensor(p + "attn_q.bias", [d], Drawn(d, 0.1), isNorm: true);
                Tensor(p + "attn_k.bias", [kv], Drawn(kv, 0.1), isNorm: true);
                Tensor(p + "attn_v.bias", [kv], Drawn(kv, 0.1), isNorm: true);
            }
            Tensor(p + "attn_output.weight", [d, d], successor is null ? Drawn((long)d * d, 1 / Math.Sqrt(d)) : () => Zeros((long)d * d));
            Tensor(p + "ffn_norm.weight", [d], () => Ones(d), isNorm: true);
            Tensor(p + "ffn_gate.weight", [d, ff], Drawn((long)d * ff, 1 / Math.Sqrt(d)));
            Tensor(p + "ffn_up.weight", [d, ff], Drawn((long)d * ff, 1 / Math.Sqrt(d)));
            Tensor(p + "ffn_down.weight", [ff, d], successor is null ? Drawn((long)ff * d, 1 / Math.Sqrt(ff)) : () => Zeros((long)ff * d));
        }
        Tensor("output_norm.weight", [d], () => Ones(d), isNorm: true);
        if (successor is not null)
        {
            Tensor("output.weight", [d, vocab], () => SuccessorOutput(embeddings!, vocab, d, successor));
        }
        else if (!shape.TiedEmbeddings)
        {
            Tensor("output.weight", [d, vocab], Drawn((long)vocab * d, shape.OutputWeightStd ?? 1 / Math.Sqrt(d)));
        }
        return writer;
    }

    private static float[] SuccessorOutput(float[] embeddings, int vocab, int d, IReadOnlyDictionary<int, int> successor)
    {
        var output = new float[(long)vocab * d];
        foreach (var (token, next) in successor)
        {
            for (int i = 0; i < d; i++)
            {
                output[(long)next * d + i] += embeddings[(long)token * d + i] / MathF.Sqrt(d);
            }
        }
        return output;
    }

    private static void AddTokenizer(GgufWriter writer, TinyVocabulary vocabulary, int size)
    {
        var tokens = vocabulary.Tokens.Select(t => t.Piece).ToList();
        var scores = vocabulary.Tokens.Select(t => t.Score).ToList();
        var types = vocabulary.Tokens.Select(t => (int)t.Type).ToList();
        for (int i = vocabulary.Count; i < size; i++)
        {
            tokens.Add($"<unused{i}>");
            scores.Add(-1000f);
            types.Add((int)TokenType.Unused);
        }
        writer.Add("tokenizer.ggml.model", "llama")
            .Add("tokenizer.ggml.tokens", tokens.ToArray())
            .Add("tokenizer.ggml.scores", scores.ToArray())
            .Add("tokenizer.ggml.token_type", types.ToArray())
            .Add("tokenizer.ggml.bos_token_id", (uint)vocabulary.Bos)
            .Add("tokenizer.ggml.eos_token_id", (uint)vocabulary.ImEnd)
            .Add("tokenizer.ggml.unknown_token_id", (uint)vocabulary.Unknown)
            .Add("tokenizer.ggml.add_bos_token", true)
            .Add("tokenizer.ggml.add_eos_token", false)
            .Add("tokenizer.ggml.add_space_prefix", false)
            .Add("tokenizer.chat_template", ChatMlTemplate);
    }
}
