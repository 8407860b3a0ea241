using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Tests.Engine;

/// <summary>Streaming, stopping and batching, on models whose output is known.</summary>
public sealed class GenerationTests(TinyModels models) : IClassFixture<TinyModels>
{
    private static EngineOptions Small => new() { MaxSessions = 4, ContextSize = 4096, MaxSessionTokens = 1024 };

    [Fact]
    public async Task Multi_byte_characters_split_across_byte_tokens_stream_as_whole_characters()
    {
        // "▁the é ▁value ✓": é is two byte tokens, ✓ three; each arrives alone and must not leak half a character.
        int[] answer = [models.Id("▁the"), models.Vocabulary.Byte(0xC3), models.Vocabulary.Byte(0xA9), models.Id("▁value"),
            models.Vocabulary.Byte(0xE2), models.Vocabulary.Byte(0x9C), models.Vocabulary.Byte(0x93)];
        using LanguageModel model = models.Successor("utf8", answer);
        using var engine = LanguageEngine.Create(model, Small);
        using EngineSession session = engine.CreateSession();
        Prompt prompt = TinyModels.Builder(model).Build([ChatTurn.User("read the chart")]);

        var (pieces, result) = await Streams.Collect(engine.GenerateAsync(session, prompt, SamplingOptions.Greedy));

        Assert.Equal(" theé value✓", result.Text);
        Assert.Equal(result.Text, string.Concat(pieces));
        Assert.All(pieces, piece => Assert.DoesNotContain('\uFFFD', piece));
        Assert.Contains("é", pieces);
        Assert.Contains("✓", pieces);
        Assert.Equal(FinishReason.EndOfGeneration, result.FinishReason);
        Assert.Equal(answer, result.Tokens);
    }

    [Fact]
    public async Task A_stop_string_split_across_tokens_ends_the_answer_before_it()
    {
        int[] answer = [models.Id("▁the"), models.Id("▁total"), models.Id("▁is"), models.Id("▁4"), models.Id("2"), models.Id("▁percent")];
        using LanguageModel model = models.Successor("stop", answer);
        using var engine = LanguageEngine.Create(model, Small);
        using EngineSession session = engine.CreateSession();
        Prompt prompt = TinyModels.Builder(model).Build([ChatTurn.User("total?")]);

        var (pieces, result) = await Streams.Collect(engine.GenerateAsync(session, prompt, SamplingOptions.Greedy with { Stop = ["is 42"] }));

        Assert.Equal(" the total ", result.Text);
        Assert.Equal(result.Text, string.Concat(pieces));
        Assert.Equal(FinishReason.StopString, result.FinishReason);
    }

    [Fact]
    public async Task Max_tokens_ends_with_length()
    {
        int[] answer = [models.Id("▁the"), models.Id("▁total"), models.Id("▁is"), models.Id("▁4")];
        using LanguageModel model = models.Successor("length", answer);
        using var engine = LanguageEngine.Create(model, Small);
        using EngineSession session = engine.CreateSession();
        Prompt prompt = TinyModels.Builder(model).Build([ChatTurn.User("total?")]);
        GenerationResult result = await engine.CompleteAsync(session, prompt, SamplingOptions.Greedy with { MaxTokens = 2 });
        Assert.Equal(" the total", result.Text);
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(2, result.Usage.GeneratedTokens);
    }

    [Fact]
    public async Task Four_concurrent_greedy_sessions_generate_what_they_generate_one_after_another()
    {
        LanguageModel model = models.RandomLlama;
        PromptBuilder builder = TinyModels.Builder(model);
        string[] questions = ["what is the total?", "which bar is the highest?", "read the title", "how many years are in the table?"];
        Prompt[] prompts = questions
            .Select(q => builder.Build([ChatTurn.User(q)])).ToArray();
        var sampling = SamplingOptions.Greedy with { MaxTokens = 24 };

        var sequential = new List<IReadOnlyList<int>>();
        using (var engine = LanguageEngine.Create(model, Small))
        {
            foreach (Prompt prompt in prompts)
            {
                using EngineSession session = engine.CreateSession();
                sequential.Add((await engine.CompleteAsync(session, prompt, sampling)).Tokens);
            }
        }
        using (var engine = LanguageEngine.Create(model, Small))
        {
            EngineSession[] sessions = prompts.Select(_ => engine.CreateSession()).ToArray();
            GenerationResult[] together = await Task.WhenAll(prompts.Select((p, i) => engine.CompleteAsync(sessions[i], p, sampling)));
            for (int i = 0; i < prompts.Length; i++)
            {
                Assert.Equal(sequential[i], together[i].Tokens);
            }
            Assert.True(engine.Statistics.DecodeCalls < 4 * 24, $"{engine.Statistics.DecodeCalls} decode calls: the sessions were not batched together");
            Array.ForEach(sessions, s => s.Dispose());
        }
    }

    [Fact]
    public async Task Seeded_sampling_is_reproducible()
    {
        LanguageModel model = models.RandomLlama;
        Prompt prompt = TinyModels.Builder(model).Build([ChatTurn.User("tell me about the chart")]);
        var sampling = new SamplingOptions { Temperature = 1.0f, Seed = 1234, MaxTokens = 16 };
        using var engine = LanguageEngine.Create(model, Small);
        using EngineSession a = engine.CreateSession(), b = engine.CreateSession();
        GenerationResult first = await engine.CompleteAsync(a, prompt, sampling);
        GenerationResult second = await engine.CompleteAsync(b, prompt, sampling);
        Assert.Equal(first.Tokens, second.Tokens);
    }

    [Theory]
    [InlineData(0, "max tokens must be positive")]
    [InlineData(-1, "out of range")]
    public void Bad_sampling_options_are_refused_at_once(int maxTokens, string expected)
    {
        using var engine = LanguageEngine.Create(models.RandomLlama, Small);
        using EngineSession session = engine.CreateSession();
        var options = maxTokens == 0 ? SamplingOptions.Greedy with { MaxTokens = 0 } : SamplingOptions.Greedy with { TopP = 2f };
        var error = Assert.Throws<BadInputException>(() => engine.GenerateAsync(session, Prompt.FromTokens([1, 2]), options));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_prompt_longer_than_a_session_may_hold_is_refused_at_once()
    {
        using var engine = LanguageEngine.Create(models.RandomLlama, Small with { MaxSessionTokens = 16 });
        using EngineSession session = engine.CreateSession();
        var error = Assert.Throws<PromptTooLongException>(() => engine.GenerateAsync(session, Prompt.FromTokens(Enumerable.Range(3, 20).ToArray()), SamplingOptions.Greedy));
        Assert.Contains("20 positions", error.Message);
    }
}
