using WebSsl.Language;
using WebSsl.Language.Engine;
using WebSsl.Language.Gguf;
using WebSsl.Language.Prompting;
using static TorchSharp.torch;

namespace WebSsl.Training.Llm;

/// <summary>How closely the TorchSharp decoder reproduces llama.cpp on one model.</summary>
public sealed record LlmCheckReport(string File, string Architecture, string WeightTypes, int Positions, int ImagePositions,
    double MaxAbsDifference, double LogitStd, LlmCheckCriterion Criterion, bool Greedy)
{
    /// <summary>The largest difference relative to the spread (standard deviation) of llama.cpp's logits.</summary>
    public double RelativeDifference => MaxAbsDifference / Math.Max(LogitStd, 1e-12);

    public bool Passed => Greedy && (Criterion.Relative ? RelativeDifference <= Criterion.Threshold : MaxAbsDifference <= Criterion.Threshold);

    public override string ToString() =>
        $"{(Passed ? "PASS" : "FAIL")}: {Architecture} ({WeightTypes}), {Positions} positions ({ImagePositions} injected embeddings): " +
        $"max |logit difference| {MaxAbsDifference:E2}, {RelativeDifference * 100:F2}% of the logits' spread " +
        $"(threshold {(Criterion.Relative ? $"{Criterion.Threshold * 100:F0}% of the spread" : $"{Criterion.Threshold:E0}")})" +
        (Greedy ? "" : "; the greedy next token differs at some position");
}

/// <summary>An absolute bound on logit differences, or one relative to the logits' standard deviation.</summary>
public sealed record LlmCheckCriterion(double Threshold, bool Relative);

/// <summary>
/// Runs one fixed prompt — text, then injected embeddings, then text — through llama.cpp (flash attention off, F32 KV
/// cache) and through <see cref="GgufLlama"/>, and compares the logits at every position. Training refuses an LLM that
/// fails: a projector trained against a decoder that computes something else would not work when served.
/// </summary>
public static class LlmCheck
{
    /// <summary>
    /// Float32 weights must agree to 1e-3 absolute (observed ~1e-6 on small models, ~2e-4 on a 24-layer 0.5B shape).
    /// llama.cpp multiplies F16/BF16 weights with activations rounded to 16 bits, and quantized weights with activations
    /// quantized to 8 bits (Q8_0/Q8_K), which this float32 copy cannot and should not mimic; those files are held to
    /// bounds relative to the logits' spread: 5% for 16-bit weights, 20% for quantized ones. The greedy choice must agree
    /// everywhere unless llama.cpp itself ranks the two tokens within the allowed difference.
    /// </summary>
    public static LlmCheckCriterion CriterionFor(GgufFile gguf)
    {
        var types = gguf.Tensors.Where(t => t.Dimensions.Length > 1).Select(t => t.Type).Distinct().ToList();
        if (types.All(t => t == GgmlType.F32))
        {
            return new LlmCheckCriterion(1e-3, Relative: false);
        }
        return types.All(t => t is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16) ? new LlmCheckCriterion(0.05, true) : new LlmCheckCriterion(0.20, true);
    }

    /// <param name="criterion">Overrides the default bound for the file's weight types (see <see cref="CriterionFor"/>).</param>
    public static async Task<LlmCheckReport> RunAsync(LanguageModel model, GgufLlama llama, LlmCheckCriterion? criterion = null,
        CancellationToken cancellationToken = default)
    {
        int[] before = model.Tokenize("What is the value of the highest bar in this chart?", addBos: model.AddBos);
        int[] after = model.Tokenize(" The highest bar shows", addBos: false);
        float[] rows = InjectedRows(model, llama, 8);
        var image = new ImageEmbedding(rows, model.EmbeddingSize);
        var prompt = new Prompt([new TokenSegment(before), new EmbeddingSegment(image), new TokenSegment(after)]);

        float[][] reference;
        using (var engine = LanguageEngine.Create(model, new EngineOptions { MaxSessions = 1, MaxQueue = 0, ContextSize = 256, MaxSessionTokens = 256, ExactAttention = true }))
        {
            reference = await engine.ComputeLogitsAsync(prompt, cancellationToken);
        }

        using var scope = NewDisposeScope();
        using var inference = no_grad();
        Tensor inputs = cat([
            llama.Embed(tensor(before.Select(t => (long)t).ToArray())),
            tensor(rows, [image.Tokens, model.EmbeddingSize]),
            llama.Embed(tensor(after.Select(t => (long)t).ToArray())),
        ]).unsqueeze(0);
        float[] ours = llama.Logits(llama.Hidden(inputs))[0].contiguous().data<float>().ToArray();

        int vocab = llama.VocabularySize;
        criterion ??= CriterionFor(model.Gguf);
        double sum = 0, squares = 0;
        long count = 0;
        foreach (float[] row in reference)
        {
            foreach (float v in row)
            {
                sum += v;
                squares += (double)v * v;
                count++;
            }
        }
        double std = Math.Sqrt(Math.Max(0, squares / count - sum / count * (sum / count)));
        double tie = criterion.Relative ? criterion.Threshold * std : criterion.Threshold;
        double worst = 0;
        bool greedy = true;
        for (int position = 0; position < reference.Length; position++)
        {
            ReadOnlySpan<float> row = ours.AsSpan(position * vocab, vocab);
            for (int t = 0; t < vocab; t++)
            {
                worst = Math.Max(worst, Math.Abs(row[t] - reference[position][t]));
            }
            // The greedy choice must agree unless llama.cpp itself ranks the two within the allowed difference.
            int mine = ArgMax(row), theirs = ArgMax(reference[position]);
            greedy &= mine == theirs || reference[position][theirs] - reference[position][mine] <= tie;
        }
        string types = string.Join("+", model.Gguf.Tensors.Where(t => t.Dimensions.Length > 1).Select(t => t.Type.ToString()).Distinct());
        return new LlmCheckReport(model.Path, model.Architecture, types, reference.Length, image.Tokens, worst, std, criterion, greedy);
    }

    /// <summary>Embedding-like rows: mixtures of token embeddings, so their scale matches what the model expects.</summary>
    private static float[] InjectedRows(LanguageModel model, GgufLlama llama, int count)
    {
        using var scope = NewDisposeScope();
        int[] tokens = model.Tokenize(" chart bar value title axis year total percent table revenue", addBos: false);
        Tensor embedded = llama.Embed(tensor(tokens.Select(t => (long)t).ToArray()));
        var rows = new List<Tensor>();
        for (int i = 0; i < count; i++)
        {
            rows.Add(embedded[i % tokens.Length] * 0.7 + embedded[(i * 3 + 1) % tokens.Length] * 0.5);
        }
        return stack(rows).contiguous().data<float>().ToArray();
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }
        return best;
    }
}
