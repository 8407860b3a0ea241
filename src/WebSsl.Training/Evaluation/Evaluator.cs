using System.Diagnostics;
using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;
using WebSsl.Multimodal.Assistant;

namespace WebSsl.Training.Evaluation;

/// <summary>How to run an evaluation.</summary>
public sealed record EvalOptions
{
    /// <summary>Null: the dataset's own metric (ChartQA relaxed accuracy, DocVQA ANLS, TextVQA VQA accuracy, OCRBench contains).</summary>
    public EvalMetric? Metric { get; init; }

    /// <summary>Answer with the image withheld: the blind baseline.</summary>
    public bool NoImage { get; init; }

    /// <summary>Only the first N samples.</summary>
    public int? Limit { get; init; }

    public int MaxTokens { get; init; } = 32;

    /// <summary>Questions answered at once (each in its own engine session).</summary>
    public int Parallel { get; init; } = 1;

    /// <summary>Null: the dataset's own (the short-answer prompt for public VQA sets, nothing for ours).</summary>
    public string? PromptSuffix { get; init; }

    public AssistantTask Task { get; init; } = AssistantTask.General;
}

public sealed record EvalProgress(int Done, int Total, double RunningScore);

/// <summary>Runs an assistant over an evaluation set, greedily, and scores every answer.</summary>
public static class Evaluator
{
    public static async Task<EvalReport> RunAsync(VisionAssistant assistant, EvalDataset dataset, EvalOptions options, IProgress<EvalProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (options.Parallel < 1 || options.MaxTokens < 1 || options.Limit is < 1)
        {
            throw new BadInputException($"evaluation options out of range (parallel >= 1, max tokens >= 1, limit >= 1): {options}.");
        }
        EvalMetric metric = options.Metric ?? dataset.DefaultMetric;
        string suffix = options.PromptSuffix ?? dataset.DefaultPromptSuffix;
        IReadOnlyList<EvalSample> samples = options.Limit is int limit ? dataset.Samples.Take(limit).ToList() : dataset.Samples;
        var results = new SamplePrediction[samples.Count];
        var sampling = VisionAssistant.DefaultSampling with { MaxTokens = options.MaxTokens };
        var clock = Stopwatch.StartNew();
        int done = 0;
        double scoreSum = 0;
        var gate = new object();
        await Parallel.ForEachAsync(Enumerable.Range(0, samples.Count), new ParallelOptions { MaxDegreeOfParallelism = options.Parallel, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                results[i] = await AnswerAsync(assistant, samples[i], metric, suffix, options, sampling, ct).ConfigureAwait(false);
                lock (gate)
                {
                    done++;
                    scoreSum += results[i].Score;
                    progress?.Report(new EvalProgress(done, samples.Count, scoreSum / done));
                }
            }).ConfigureAwait(false);
        return EvalReport.Create(dataset, metric, options, suffix, assistant, results, clock.Elapsed);
    }

    private static async Task<SamplePrediction> AnswerAsync(VisionAssistant assistant, EvalSample sample, EvalMetric metric, string suffix, EvalOptions options,
        SamplingOptions sampling, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var images = options.NoImage ? [] : sample.Images.Select(i => new AssistantImage(i.ReadBytes(), i.Label)).ToList();
            var question = new AssistantMessage(ChatRole.User, sample.Question + suffix) { Images = images };
            using EngineSession session = assistant.Engine.CreateSession();
            AssistantAnswer? answer = null;
            await foreach (AssistantEvent e in assistant.ChatAsync(session, [question], options.Task, new AssistantRequest { Sampling = sampling }, cancellationToken)
                .ConfigureAwait(false))
            {
                answer = (e as AnswerCompleted)?.Answer ?? answer;
            }
            string prediction = answer!.Text.Trim();
            return new SamplePrediction(sample.Id, sample.Category, sample.Question, sample.Answers, prediction, AnswerScoring.Score(metric, prediction, sample.Answers),
                clock.Elapsed.TotalMilliseconds, answer.Metrics.GeneratedTokens, answer.Metrics.FirstTokenMilliseconds, null);
        }
        catch (Exception e) when (e is not OperationCanceledException && e is not EngineBusyException)
        {
            // A sample that cannot be asked (missing or broken image, prompt too long) scores 0 and says why; the run goes on.
            return new SamplePrediction(sample.Id, sample.Category, sample.Question, sample.Answers, "", 0, clock.Elapsed.TotalMilliseconds, 0, 0, e.Message);
        }
    }
}
