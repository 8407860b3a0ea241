using System.Diagnostics;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;
using LLamaContext = LLama.LLamaContext;

namespace WebSsl.Language.Benchmarks;

public sealed record LlmBenchmarkOptions
{
    public int GeneratedTokens { get; init; } = 64;
    public int PromptTokens { get; init; } = 256;
    public IReadOnlyList<int> Sessions { get; init; } = [1, 4, 8];
    public int? Threads { get; init; }
}

/// <summary>Aggregate speed of N concurrent sessions through the engine, and of llama.cpp decoding N sequences per batch directly.</summary>
public sealed record ConcurrencyResult(int Sessions, int Tokens, TimeSpan Wall, double BareBatchedTokensPerSecond)
{
    public double AggregateTokensPerSecond => Tokens / Wall.TotalSeconds;

    /// <summary>How much of llama.cpp's own batched speed the scheduler delivers.</summary>
    public double EngineOverBareBatched => AggregateTokensPerSecond / BareBatchedTokensPerSecond;
}

/// <summary>Everything measured in one run, so that every ratio compares figures taken under the same conditions.</summary>
public sealed record LlmBenchmarkReport(string Model, double EngineTokensPerSecond, double BareTokensPerSecond, double EngineOverBare,
    double TokenPrefillPerSecond, double EmbeddingPrefillPerSecond, IReadOnlyList<ConcurrencyResult> Concurrency);

/// <summary>Generation and prefill speed of the engine, against a bare LLamaSharp loop on the same model.</summary>
public static class LlmBenchmark
{
    public static async Task<LlmBenchmarkReport> RunAsync(LanguageModel model, LlmBenchmarkOptions options, CancellationToken cancellationToken = default)
    {
        int[] prompt = PromptTokens(model, options.PromptTokens);
        int maxSessions = options.Sessions.Max();
        int perSession = options.PromptTokens + options.GeneratedTokens + 16;
        var engineOptions = new EngineOptions
        {
            MaxSessions = maxSessions,
            MaxQueue = 0,
            ContextSize = maxSessions * perSession + options.PromptTokens,
            MaxSessionTokens = perSession,
            Threads = options.Threads,
        };
        var sampling = SamplingOptions.Greedy with { MaxTokens = options.GeneratedTokens + 1, IgnoreEndOfGeneration = true };

        using var engine = LanguageEngine.Create(model, engineOptions);
        // The bare loop and the engine alternate; each ratio pairs two runs taken back to back (on a shared machine the
        // speed drifts by tens of percent over a minute), and the medians are reported. Round 0 warms both up.
        var bares = new List<double>();
        var engines = new List<double>();
        var ratios = new List<double>();
        var prefills = new List<double>();
        for (int round = 0; round < Rounds + 1; round++)
        {
            double bare = BareLoopTokensPerSecond(model, prompt, options.GeneratedTokens, options.Threads);
            using EngineSession session = engine.CreateSession();
            GenerationResult single = await engine.CompleteAsync(session, Prompt.FromTokens(prompt), sampling, cancellationToken);
            if (round > 0)
            {
                bares.Add(bare);
                engines.Add(single.Usage.TokensPerSecond);
                ratios.Add(single.Usage.TokensPerSecond / bare);
                prefills.Add(options.PromptTokens / single.Usage.PrefillTime.TotalSeconds);
            }
        }

        var rows = new float[options.PromptTokens * model.EmbeddingSize];
        var random = new Random(5);
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = (float)(random.NextDouble() - 0.5);
        }
        Prompt imagePrompt = new([new TokenSegment([prompt[0]]), new EmbeddingSegment(new ImageEmbedding(rows, model.EmbeddingSize))]);
        GenerationResult embedded;
        using (EngineSession session = engine.CreateSession())
        {
            embedded = await engine.CompleteAsync(session, imagePrompt, sampling with { MaxTokens = 1 }, cancellationToken);
        }
        double embeddingPrefill = options.PromptTokens / embedded.Usage.PrefillTime.TotalSeconds;

        var concurrency = new List<ConcurrencyResult>();
        foreach (int count in options.Sessions)
        {
            EngineSession[] sessions = Enumerable.Range(0, count).Select(_ => engine.CreateSession()).ToArray();
            var watch = Stopwatch.StartNew();
            GenerationResult[] results = await Task.WhenAll(sessions.Select((s, i) =>
                engine.CompleteAsync(s, Prompt.FromTokens(prompt.Take(16 + i).ToArray()), sampling with { MaxTokens = options.GeneratedTokens }, cancellationToken)));
            TimeSpan wall = watch.Elapsed;
            Array.ForEach(sessions, s => s.Dispose());
            concurrency.Add(new ConcurrencyResult(count, results.Sum(r => r.Usage.GeneratedTokens), wall,
                BareBatchedTokensPerSecond(model, count, options.GeneratedTokens, options.Threads)));
        }
        return new LlmBenchmarkReport(model.Name, Median(engines), Median(bares), Median(ratios), Median(prefills), embeddingPrefill, concurrency);
    }

    private const int Rounds = 3;

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>The reference: decode the prompt, then sample greedily and decode one token at a time, nothing else.</summary>
    private static double BareLoopTokensPerSecond(LanguageModel model, int[] prompt, int tokens, int? threads)
    {
        using LLamaContext context = model.Weights.CreateContext(new ModelParams(model.Path)
        {
            ContextSize = (uint)(prompt.Length + tokens + 16),
            BatchSize = 512,
            UBatchSize = 512,
            SeqMax = 1,
            Threads = threads,
            BatchThreads = threads,
        });
        var batch = new LLamaBatch();
        for (int start = 0; start < prompt.Length; start += 512)
        {
            batch.Clear();
            int end = Math.Min(prompt.Length, start + 512);
            for (int i = start; i < end; i++)
            {
                batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
            }
            context.NativeHandle.Decode(batch);
        }
        using var sampler = new DefaultSamplingPipeline { Temperature = 0, PreventEOS = true };
        LLamaToken token = sampler.Sample(context.NativeHandle, batch.TokenCount - 1);
        int position = prompt.Length;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < tokens; i++)
        {
            batch.Clear();
            batch.Add(token, position++, LLamaSeqId.Zero, true);
            context.NativeHandle.Decode(batch);
            token = sampler.Sample(context.NativeHandle, 0);
        }
        return tokens / watch.Elapsed.TotalSeconds;
    }

    /// <summary>llama.cpp alone decoding <paramref name="sequences"/> sequences, one token each per batch: the hardware's batched speed.</summary>
    private static double BareBatchedTokensPerSecond(LanguageModel model, int sequences, int steps, int? threads)
    {
        using LLamaContext context = model.Weights.CreateContext(new ModelParams(model.Path)
        {
            ContextSize = (uint)(sequences * (steps + 32)),
            BatchSize = 512,
            UBatchSize = 512,
            SeqMax = (uint)sequences,
            KVUnified = true,
            Threads = threads,
            BatchThreads = threads,
        });
        int[] prompt = PromptTokens(model, 16);
        var batch = new LLamaBatch();
        for (int s = 0; s < sequences; s++)
        {
            for (int p = 0; p < prompt.Length; p++)
            {
                batch.Add((LLamaToken)prompt[p], p, (LLamaSeqId)s, false);
            }
        }
        context.NativeHandle.Decode(batch);
        var watch = new Stopwatch();
        for (int step = 0; step < steps + 1; step++)
        {
            if (step == 1)
            {
                watch.Start(); // the first step warms up
            }
            batch.Clear();
            for (int s = 0; s < sequences; s++)
            {
                batch.Add((LLamaToken)prompt[(step + s) % prompt.Length], prompt.Length + step, (LLamaSeqId)s, true);
            }
            context.NativeHandle.Decode(batch);
        }
        return (double)sequences * steps / watch.Elapsed.TotalSeconds;
    }

    /// <summary>A prompt of exactly <paramref name="count"/> tokens of ordinary text.</summary>
    private static int[] PromptTokens(LanguageModel model, int count)
    {
        int[] sentence = model.Tokenize(" the highest bar in the chart shows the total revenue of the year", addBos: false);
        int[] bos = model.AddBos ? model.Tokenize("", addBos: true) : [];
        return bos.Concat(Enumerable.Repeat(sentence, count / sentence.Length + 1).SelectMany(t => t)).Take(count).ToArray();
    }
}
