using WebSsl.Language;
using WebSsl.Multimodal.Assistant;
using WebSsl.Training.Evaluation;
using WebSsl.Training.Runs;
using WebSsl.Training.Synthesis;
using WebSsl.Vision;

namespace WebSsl.Training.Tests.Evaluation;

/// <summary>The tiny training world with an adapter trained on it: chart-i.png is answered Answers[i].</summary>
public sealed class TrainedWorld : IAsyncLifetime
{
    public TrainingWorld World { get; } = new();

    public string Adapter => Path.Combine(World.Root, "adapter");

    public async Task InitializeAsync()
    {
        using VisionEncoder encoder = World.LoadEncoder();
        using LanguageModel llm = World.LoadLlm();
        await Trainer.RunAsync(new TrainingInputs
        {
            DataFile = World.DataFile, ImageDirectory = World.ImageDirectory, OutputDirectory = Adapter, Encoder = encoder, Llm = llm,
        }, new TrainingOptions { MaxSteps = 200, BatchSize = 8, LearningRate = 5e-3, WarmupRatio = 0.05, CheckpointEvery = 1000, ValidateEvery = 1000 });
    }

    public Task<VisionAssistant> LoadAsync(int sessions = 2) => VisionAssistant.LoadAsync(new AssistantOptions
    {
        EncoderPath = World.EncoderDirectory,
        LlmPath = World.LlmPath,
        AdapterPath = Adapter,
        Engine = new() { MaxSessions = sessions, MaxQueue = sessions, ContextSize = 1024 * sessions, MaxSessionTokens = 1024 },
    });

    public Task DisposeAsync()
    {
        World.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class EvaluatorTests(TrainedWorld trained) : IClassFixture<TrainedWorld>
{
    [Fact]
    public async Task The_trained_adapter_scores_full_marks_and_the_blind_baseline_does_not()
    {
        await using VisionAssistant assistant = await trained.LoadAsync();
        EvalDataset set = EvalDataset.Read(trained.World.DataFile, trained.World.ImageDirectory);

        EvalReport seeing = await Evaluator.RunAsync(assistant, set, new EvalOptions { MaxTokens = 8 });
        EvalReport blind = await Evaluator.RunAsync(assistant, set, new EvalOptions { MaxTokens = 8, NoImage = true, Parallel = 2 });

        Assert.Equal(TrainingWorld.Answers.Length, seeing.Samples);
        Assert.Equal(1.0, seeing.Overall);
        Assert.True(blind.Overall <= 0.25, $"blind {blind.Overall}");
        Assert.True(blind.NoImage);
        Assert.All(seeing.Predictions, p => Assert.Equal(p.Answers[0], p.Prediction));
        Assert.Equal("relaxed-accuracy", seeing.Metric);
    }

    [Fact]
    public async Task A_run_over_synthetic_data_writes_a_complete_report()
    {
        using var dir = new TempDirectory();
        SynthSummary synth = SyntheticDataset.Write(new SynthOptions { Kind = SynthKind.Mixed, Count = 6, Seed = 2 }, dir.Sub("synth"));
        await using VisionAssistant assistant = await trained.LoadAsync();
        EvalDataset set = EvalDataset.Read(synth.DataFile);
        var progress = new List<EvalProgress>();

        EvalReport report = await Evaluator.RunAsync(assistant, set, new EvalOptions { Limit = 10, Parallel = 2, MaxTokens = 6 },
            new Progress<EvalProgress>(progress.Add));
        report.Write(dir.Sub("report"));

        Assert.Equal(10, report.Samples);
        Assert.Equal(0, report.Errors);
        Assert.Equal(report.Predictions.Select(p => p.Id), set.Samples.Take(10).Select(s => s.Id));
        Assert.Equal(10, report.Categories.Values.Sum(c => c.Count));
        Assert.All(report.Categories.Keys, c => Assert.Contains(c, SynthCategory.All));
        Assert.True(report.Throughput.SamplesPerSecond > 0 && report.Throughput.Seconds > 0);
        Assert.InRange(report.Overall, 0, 1);
        Assert.Equal(report.Overall, report.Predictions.Average(p => p.Score), 9);
        string json = File.ReadAllText(Path.Combine(dir.Path, "report", "report.json"));
        Assert.Contains("\"predictions\"", json);
        Assert.Contains("\"categories\"", json);
        string md = File.ReadAllText(Path.Combine(dir.Path, "report", "report.md"));
        Assert.Contains("| **overall** | **10** |", md);
        Assert.Contains(report.Categories.Keys.First(), md);
    }

    [Fact]
    public async Task A_missing_image_scores_zero_with_its_reason_and_the_run_goes_on()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("data.json"), $$"""
            [{"id": "gone", "image": "nowhere.png", "conversations": [{"from": "human", "value": "<image>\nwhat is this?"}, {"from": "gpt", "value": "bar"}]},
             {"id": "there", "image": "{{trained.World.ImageDirectory}}/chart-0.png", "conversations": [{"from": "human", "value": "<image>\nwhat is this?"}, {"from": "gpt", "value": "bar"}]}]
            """);
        await using VisionAssistant assistant = await trained.LoadAsync();

        EvalReport report = await Evaluator.RunAsync(assistant, EvalDataset.Read(dir.File("data.json")), new EvalOptions { MaxTokens = 4 });

        Assert.Equal(1, report.Errors);
        Assert.Contains("nowhere.png", report.Predictions[0].Error);
        Assert.Equal((0.0, 1.0), (report.Predictions[0].Score, report.Predictions[1].Score));
        Assert.Equal(0.5, report.Overall);
    }
}
