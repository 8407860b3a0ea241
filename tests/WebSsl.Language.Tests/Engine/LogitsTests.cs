using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Tests.Engine;

/// <summary>Image embeddings enter the model exactly where token embeddings would.</summary>
public sealed class LogitsTests(TinyModels models) : IClassFixture<TinyModels>
{
    [Fact]
    public async Task Rows_of_token_embd_fed_as_embeddings_give_exactly_the_logits_of_the_tokens()
    {
        LanguageModel model = models.RandomLlama;
        using var engine = LanguageEngine.Create(model, new EngineOptions { MaxSessions = 1, ContextSize = 512, MaxSessionTokens = 512, ExactAttention = true });
        int[] tokens = model.Tokenize("what is the highest bar in the chart?", addBos: true);
        float[] table = model.Gguf.ReadTensorFloat32("token_embd.weight");
        int width = model.EmbeddingSize;
        float[] rows = tokens.SelectMany(t => table.AsSpan(t * width, width).ToArray()).ToArray();

        float[][] fromTokens = await engine.ComputeLogitsAsync(Prompt.FromTokens(tokens));
        float[][] fromEmbeddings = await engine.ComputeLogitsAsync(new Prompt([new EmbeddingSegment(new ImageEmbedding(rows, width))]));

        Assert.Equal(tokens.Length, fromTokens.Length);
        Assert.Equal(model.VocabularySize, fromTokens[0].Length);
        for (int position = 0; position < tokens.Length; position++)
        {
            Assert.Equal(fromTokens[position], fromEmbeddings[position]);
        }
    }

    [Fact]
    public async Task An_image_in_the_middle_of_text_is_positioned_like_the_tokens_it_replaces()
    {
        LanguageModel model = models.RandomLlama;
        using var engine = LanguageEngine.Create(model, new EngineOptions { MaxSessions = 1, ContextSize = 512, MaxSessionTokens = 512, ExactAttention = true, BatchSize = 4 });
        int[] before = model.Tokenize("the chart", addBos: true), middle = model.Tokenize(" value of the bar", false), after = model.Tokenize(" is", false);
        float[] table = model.Gguf.ReadTensorFloat32("token_embd.weight");
        float[] rows = middle.SelectMany(t => table.AsSpan(t * model.EmbeddingSize, model.EmbeddingSize).ToArray()).ToArray();

        float[][] plain = await engine.ComputeLogitsAsync(Prompt.FromTokens([.. before, .. middle, .. after]));
        float[][] mixed = await engine.ComputeLogitsAsync(new Prompt([
            new TokenSegment(before), new EmbeddingSegment(new ImageEmbedding(rows, model.EmbeddingSize)), new TokenSegment(after)]));
        // Batch size 4 splits the two prompts into different decode calls, so only float rounding may differ.
        double worst = plain[^1].Zip(mixed[^1], (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-5, $"max |logit difference| {worst:E2}");
    }

    [Fact]
    public void An_embedding_of_the_wrong_width_is_refused_at_once_naming_both_widths()
    {
        using var engine = LanguageEngine.Create(models.RandomLlama, new EngineOptions { MaxSessions = 1, ContextSize = 512, MaxSessionTokens = 512 });
        var prompt = new Prompt([new EmbeddingSegment(new ImageEmbedding(new float[96], 32))]);
        var error = Assert.Throws<RequestRefusedException>(() => { _ = engine.ComputeLogitsAsync(prompt); });
        Assert.Equal(ProblemKind.ModelMismatch, error.Kind);
        Assert.Contains("width 32", error.Message);
        Assert.Contains("n_embd 64", error.Message);
    }
}
