using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Language;
using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Embedding;
using WebSsl.Training.Runs;
using WebSsl.Vision;
using WebSsl.Vision.Images;

namespace WebSsl.Training.Tests.Runs;

public sealed class TrainerTests(TrainingWorld world) : IClassFixture<TrainingWorld>
{
    private static readonly TrainingOptions Memorize = new()
    {
        MaxSteps = 200,
        BatchSize = 8,
        LearningRate = 5e-3,
        WarmupRatio = 0.05,
        CheckpointEvery = 50,
        ValidateEvery = 1000,
    };

    [Fact]
    public async Task A_projector_trained_through_the_frozen_llm_is_answered_correctly_by_llama_cpp()
    {
        string output = world.Sub("adapter-memorize");
        using VisionEncoder encoder = world.LoadEncoder();
        using LanguageModel llm = world.LoadLlm();
        TrainingResult result = await Trainer.RunAsync(new TrainingInputs
        {
            DataFile = world.DataFile,
            ImageDirectory = world.ImageDirectory,
            OutputDirectory = output,
            Encoder = encoder,
            Llm = llm,
        }, Memorize);
        Assert.Equal(200, result.Steps);
        string[] log = File.ReadAllLines(Path.Combine(output, "train-log.jsonl"));
        Assert.True(result.FinalTrainLoss < 0.05, $"final loss {result.FinalTrainLoss}; log: {string.Join(" ", log.Where((_, i) => i % 100 == 0).Select(l => l[..60]))}");

        // The serving path: adapter loaded and checked against both models, images embedded, llama.cpp answers greedily.
        using Adapter adapter = Adapter.Load(output, llm: Identities.Of(llm));
        int correct = await world.CountCorrectAnswersAsync(encoder, llm, adapter);
        Assert.True(correct >= 0.9 * TrainingWorld.Answers.Length, $"{correct} of {TrainingWorld.Answers.Length} answers exact");

        Assert.True(File.Exists(Path.Combine(output, "loss-curve.svg")));
        Assert.Contains("<svg", await File.ReadAllTextAsync(Path.Combine(output, "loss-curve.svg")));
        Assert.Equal(200, File.ReadLines(Path.Combine(output, "train-log.jsonl")).Count(l => l.Contains("\"type\":\"train\"", StringComparison.Ordinal)));
        JsonNode manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "adapter.json")))!;
        Assert.Equal("mlp2x_gelu", manifest["projector"]!["type"]!.GetValue<string>());
        Assert.Equal(64, manifest["llm"]!["n_embd"]!.GetValue<int>());
        Assert.Equal("pad", manifest["encoder"]!["preprocess"]!.GetValue<string>());
    }
}
