using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Tests.Engine;

/// <summary>KV-cache reuse between turns, cancellation, the bounded queue, eviction.</summary>
public sealed class SessionTests(TinyModels models) : IClassFixture<TinyModels>
{
    private static EngineOptions Options => new() { MaxSessions = 2, MaxQueue = 1, ContextSize = 4096, MaxSessionTokens = 1024 };

    /// <summary>A model that repeats "▁the ▁chart" forever (for streams that only end when cancelled).</summary>
    private LanguageModel Endless(string name)
    {
        var map = new Dictionary<int, int>
        {
            [models.Vocabulary.Byte((byte)'\n')] = models.Id("▁the"),
            [models.Id("▁the")] = models.Id("▁chart"),
            [models.Id("▁chart")] = models.Id("▁the"),
        };
        string path = models.Temp.File(name + ".gguf");
        Fixtures.TinyLlamaBuilder.WriteSuccessor(path, map);
        return LanguageModel.Load(path);
    }

    [Fact]
    public async Task A_follow_up_turn_decodes_only_the_new_turn_and_reuses_the_image()
    {
        LanguageModel model = models.RandomLlama;
        using var engine = LanguageEngine.Create(model, Options);
        using var conversation = new TextChat(engine, TinyModels.Builder(model), "you are a helpful assistant");
        var image = new ImageEmbedding(Enumerable.Range(0, 10 * 64).Select(i => MathF.Sin(i)).ToArray(), 64);

        GenerationResult first = (await Streams.Collect(conversation.SendAsync(ChatTurn.User("what is the title?", image), SamplingOptions.Greedy with { MaxTokens = 8 }))).Result;
        long decodedAfterFirst = engine.Statistics.DecodedPositions;
        Assert.Equal(10, first.Usage.ImageTokens);
        Assert.Equal(0, first.Usage.CachedPromptTokens);

        GenerationResult second = (await Streams.Collect(conversation.SendAsync(ChatTurn.User("and the total?"), SamplingOptions.Greedy with { MaxTokens = 8 }))).Result;
        long decodedBySecond = engine.Statistics.DecodedPositions - decodedAfterFirst;

        // Everything of turn one that reached the cache is reused: its prompt (image included) and the decoded answer tokens.
        int answerInCache = first.FinishReason == FinishReason.EndOfGeneration ? first.Usage.GeneratedTokens : first.Usage.GeneratedTokens - 1;
        Assert.Equal(first.Usage.PromptTokens + answerInCache, second.Usage.CachedPromptTokens);
        int newPromptPositions = second.Usage.PromptTokens - second.Usage.CachedPromptTokens;
        Assert.Equal(newPromptPositions + second.Usage.GeneratedTokens - (second.FinishReason == FinishReason.EndOfGeneration ? 0 : 1), decodedBySecond);
        Assert.Equal(5, conversation.Turns.Count); // system, user, assistant, user, assistant
    }

    [Fact]
    public async Task Asking_the_same_prompt_again_decodes_only_its_last_position()
    {
        LanguageModel model = models.RandomLlama;
        using var engine = LanguageEngine.Create(model, Options);
        using EngineSession session = engine.CreateSession();
        Prompt prompt = TinyModels.Builder(model).Build([ChatTurn.User("what is the value of the highest bar?")]);
        GenerationResult first = await engine.CompleteAsync(session, prompt, SamplingOptions.Greedy with { MaxTokens = 4 });
        GenerationResult again = await engine.CompleteAsync(session, prompt, SamplingOptions.Greedy with { MaxTokens = 4 });
        Assert.Equal(prompt.Length - 1, again.Usage.CachedPromptTokens);
        Assert.Equal(first.Tokens, again.Tokens);
    }

    [Fact]
    public async Task Cancelling_a_stream_stops_it_and_frees_the_slot_for_the_next_request()
    {
        using LanguageModel model = Endless("endless-cancel");
        using var engine = LanguageEngine.Create(model, Options with { MaxSessions = 1, MaxQueue = 0 });
        using EngineSession session = engine.CreateSession();
        Prompt prompt = TinyModels.Builder(model).Build([ChatTurn.User("describe")]);
        using var cancellation = new CancellationTokenSource();
        int received = 0;
        long decodedAtCancel = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (GenerationChunk chunk in engine.GenerateAsync(session, prompt, SamplingOptions.Greedy with { MaxTokens = 100_000 }, cancellation.Token))
            {
                if (++received == 5)
                {
                    decodedAtCancel = engine.Statistics.DecodedPositions;
                    cancellation.Cancel();
                }
            }
        });
        await Task.Delay(100);
        Assert.InRange(engine.Statistics.DecodedPositions - decodedAtCancel, 0, 2); // at most the step already under way
        Assert.Equal(0, engine.Statistics.Generating);
        decodedAtCancel = engine.Statistics.DecodedPositions;

        // The slot is free again: the same session (and engine, which allows one session at a time) answers the next request.
        GenerationResult next = await engine.CompleteAsync(session, prompt, SamplingOptions.Greedy with { MaxTokens = 3 });
        Assert.Equal(3, next.Usage.GeneratedTokens);
        Assert.True(engine.Statistics.DecodedPositions - decodedAtCancel < 10, "the cancelled generation kept decoding");
    }

    [Fact]
    public async Task Abandoning_an_enumeration_cancels_the_generation()
    {
        using LanguageModel model = Endless("endless-abandon");
        using var engine = LanguageEngine.Create(model, Options with { MaxSessions = 1, MaxQueue = 0 });
        using EngineSession session = engine.CreateSession();
        Prompt prompt = TinyModels.Builder(model).Build([ChatTurn.User("describe")]);
        await foreach (GenerationChunk _ in engine.GenerateAsync(session, prompt, SamplingOptions.Greedy with { MaxTokens = 100_000 }))
        {
            break;
        }
        GenerationResult next = await engine.CompleteAsync(session, prompt, SamplingOptions.Greedy with { MaxTokens = 2 });
        Assert.Equal(2, next.Usage.GeneratedTokens);
        Assert.Equal(0, engine.Statistics.Generating);
    }

    [Fact]
    public async Task A_full_queue_refuses_at_once_and_a_waiting_request_runs_when_a_slot_frees()
    {
        using LanguageModel model = Endless("endless-queue");
        using var engine = LanguageEngine.Create(model, Options with { MaxSessions = 1, MaxQueue = 1 });
        Prompt prompt = TinyModels.Builder(model).Build([ChatTurn.User("describe")]);
        using EngineSession a = engine.CreateSession(), b = engine.CreateSession(), c = engine.CreateSession();
        using var stopFirst = new CancellationTokenSource();

        IAsyncEnumerable<GenerationChunk> running = engine.GenerateAsync(a, prompt, SamplingOptions.Greedy with { MaxTokens = 100_000 }, stopFirst.Token);
        Task<GenerationResult> waiting = engine.CompleteAsync(b, prompt, SamplingOptions.Greedy with { MaxTokens = 2 });
        var busy = Assert.Throws<EngineBusyException>(() => engine.GenerateAsync(c, prompt, SamplingOptions.Greedy));
        Assert.Contains("queue", busy.Message);

        await using (IAsyncEnumerator<GenerationChunk> reader = running.GetAsyncEnumerator())
        {
            Assert.True(await reader.MoveNextAsync());
            Assert.False(waiting.IsCompleted);
            stopFirst.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { while (await reader.MoveNextAsync()) { } });
        }
        Assert.Equal(2, (await waiting).Usage.GeneratedTokens);
    }

    [Fact]
    public void One_session_generates_one_answer_at_a_time()
    {
        using LanguageModel model = Endless("endless-one");
        using var engine = LanguageEngine.Create(model, Options);
        using EngineSession session = engine.CreateSession();
        Prompt prompt = TinyModels.Builder(model).Build([ChatTurn.User("describe")]);
        using var stop = new CancellationTokenSource();
        _ = engine.GenerateAsync(session, prompt, SamplingOptions.Greedy with { MaxTokens = 100_000 }, stop.Token);
        Assert.Throws<InvalidOperationException>(() => engine.GenerateAsync(session, prompt, SamplingOptions.Greedy));
        stop.Cancel();
    }

    [Fact]
    public async Task The_least_recently_used_idle_session_is_evicted_when_slots_run_out()
    {
        LanguageModel model = models.RandomLlama;
        using var engine = LanguageEngine.Create(model, Options with { MaxSessions = 2 });
        PromptBuilder builder = TinyModels.Builder(model);
        using EngineSession first = engine.CreateSession(), second = engine.CreateSession(), third = engine.CreateSession();
        var sampling = SamplingOptions.Greedy with { MaxTokens = 2 };
        await engine.CompleteAsync(first, builder.Build([ChatTurn.User("one")]), sampling);
        await engine.CompleteAsync(second, builder.Build([ChatTurn.User("two")]), sampling);
        await engine.CompleteAsync(first, builder.Build([ChatTurn.User("one")]), sampling); // first is now the most recent
        await engine.CompleteAsync(third, builder.Build([ChatTurn.User("three")]), sampling);

        Assert.Equal(0, second.CachedTokens);
        Assert.True(first.CachedTokens > 0);
        Assert.True(third.CachedTokens > 0);
        Assert.Equal(2, engine.Statistics.ResidentSessions);
    }

    [Fact]
    public async Task Disposing_a_session_returns_its_cache()
    {
        LanguageModel model = models.RandomLlama;
        using var engine = LanguageEngine.Create(model, Options);
        EngineSession session = engine.CreateSession();
        await engine.CompleteAsync(session, TinyModels.Builder(model).Build([ChatTurn.User("hello")]), SamplingOptions.Greedy with { MaxTokens = 2 });
        Assert.Equal(1, engine.Statistics.ResidentSessions);
        session.Dispose();
        await WaitUntil(() => engine.Statistics.ResidentSessions == 0);
        Assert.Throws<ArgumentException>(() => engine.GenerateAsync(session, Prompt.FromTokens([1, 2]), SamplingOptions.Greedy));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition());
    }
}
