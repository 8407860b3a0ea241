using System.Text.Json.Nodes;
using WebSsl.Language;
using WebSsl.Training.Runs;
using WebSsl.Vision;

namespace WebSsl.Training.Tests.Runs;

public sealed class TrainerBehaviourTests(TrainingWorld world) : IClassFixture<TrainingWorld>
{
    private TrainingInputs Inputs(VisionEncoder encoder, LanguageModel llm, string output, string? data = null) => new()
    {
        DataFile = data ?? world.DataFile,
        ImageDirectory = world.ImageDirectory,
        OutputDirectory = output,
        Encoder = encoder,
        Llm = llm,
    };

    [Fact]
    public async Task A_diverging_run_stops_naming_the_step_and_the_last_good_checkpoint()
    {
        using VisionEncoder encoder = world.LoadEncoder();
        using LanguageModel llm = world.LoadLlm();
        var error = await Assert.ThrowsAsync<TrainingDivergedException>(() => Trainer.RunAsync(Inputs(encoder, llm, world.Sub("diverge")),
            new TrainingOptions { MaxSteps = 60, BatchSize = 8, LearningRate = 1e30, WarmupRatio = 0, MaxGradNorm = 1e30, CheckpointEvery = 2, ValidateEvery = 1000 }));
        Assert.Matches(@"the loss became (NaN|-?Infinity|∞|-∞) at step \d+; the last good checkpoint is (.*step-\d{8}|none)", error.Message);
    }

    [Fact]
    public async Task Later_epochs_read_features_from_the_cache_and_validation_is_logged()
    {
        // Twelve records (the eight images, some twice with other questions) leave room for a validation split.
        var records = JsonNode.Parse(File.ReadAllText(world.DataFile))!.AsArray();
        var more = new JsonArray(records.Select(r => r!.DeepClone()).Concat(records.Take(4).Select(r =>
        {
            JsonNode copy = r!.DeepClone();
            copy["id"] = copy["id"]!.GetValue<string>() + "-again";
            copy["conversations"]![0]!["value"] = "<image>\nand this?";
            return copy;
        })).ToArray());
        string data = world.File("twelve.json");
        File.WriteAllText(data, more.ToJsonString());
        string output = world.Sub("cached");
        using VisionEncoder encoder = world.LoadEncoder();
        using LanguageModel llm = world.LoadLlm();
        TrainingResult result = await Trainer.RunAsync(Inputs(encoder, llm, output, data),
            new TrainingOptions { Epochs = 3, BatchSize = 4, ValidationFraction = 0.1, ValidateEvery = 2, CheckpointEvery = 100 });

        Assert.Equal(11, result.TrainRecords);
        Assert.Equal(1, result.ValidationRecords);
        Assert.True(result.FeatureCacheMisses <= 8, $"{result.FeatureCacheMisses} encoder runs for 8 distinct images");
        Assert.True(result.FeatureCacheHits > result.FeatureCacheMisses);
        Assert.NotNull(result.Validation);
        var validations = File.ReadLines(Path.Combine(output, "train-log.jsonl")).Where(l => l.Contains("\"type\":\"validation\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(result.Steps / 2 + result.Steps % 2, validations.Count);
        Assert.Contains("val_exact_match", validations[0]);
        JsonNode manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "adapter.json")))!;
        Assert.Equal(11, manifest["training"]!["records"]!.GetValue<int>());
        Assert.NotNull(manifest["training"]!["final_validation_loss"]);
    }

    [Fact]
    public async Task A_checkpoint_from_a_run_with_other_settings_is_not_resumed_silently()
    {
        string output = world.Sub("mismatch");
        using VisionEncoder encoder = world.LoadEncoder();
        using LanguageModel llm = world.LoadLlm();
        await Trainer.RunAsync(Inputs(encoder, llm, output), new TrainingOptions { MaxSteps = 4, BatchSize = 8, CheckpointEvery = 2, ValidateEvery = 100 });
        var error = await Assert.ThrowsAsync<TrainingSetupException>(() => Trainer.RunAsync(Inputs(encoder, llm, output),
            new TrainingOptions { MaxSteps = 8, BatchSize = 8, CheckpointEvery = 2, ValidateEvery = 100 }));
        Assert.Contains("--no-resume", error.Message);
        TrainingResult fresh = await Trainer.RunAsync(Inputs(encoder, llm, output),
            new TrainingOptions { MaxSteps = 8, BatchSize = 8, CheckpointEvery = 2, ValidateEvery = 100, Resume = false });
        Assert.Equal(0, fresh.ResumedFromStep);
    }
}

public sealed class TrainerSetupTests(TrainingWorld world) : IClassFixture<TrainingWorld>
{
    [Fact]
    public async Task Gradient_accumulation_of_two_half_batches_equals_one_full_batch()
    {
        using VisionEncoder encoder = world.LoadEncoder();
        using LanguageModel llm = world.LoadLlm();
        async Task<double[]> Losses(int batch, int accumulation)
        {
            string output = world.Sub($"accumulate-{batch}x{accumulation}");
            await Trainer.RunAsync(new TrainingInputs { DataFile = world.DataFile, ImageDirectory = world.ImageDirectory, OutputDirectory = output, Encoder = encoder, Llm = llm },
                new TrainingOptions { MaxSteps = 5, BatchSize = batch, GradientAccumulation = accumulation, CheckpointEvery = 100, ValidateEvery = 100, WarmupRatio = 0 });
            return File.ReadLines(Path.Combine(output, "train-log.jsonl")).Select(l => JsonNode.Parse(l)!).Where(n => n["type"]!.GetValue<string>() == "train")
                .Select(n => n["loss"]!.GetValue<double>()).ToArray();
        }
        double[] whole = await Losses(8, 1), halves = await Losses(4, 2);
        Assert.Equal(5, whole.Length);
        for (int i = 0; i < whole.Length; i++)
        {
            Assert.Equal(whole[i], halves[i], 4);
        }
    }

    [Fact]
    public async Task An_llm_that_fails_the_check_is_refused_with_the_check_report()
    {
        // A Q8_0 model differs from its float32 copy by llama.cpp's 8-bit activation rounding; demanding float32-level
        // agreement (absolute 1e-6) must make training refuse it rather than train against a different computation.
        string path = world.File("quantized.gguf");
        WebSsl.Language.Fixtures.TinyLlamaBuilder.WriteRandom(path, WebSsl.Language.Fixtures.LlamaShape.Get("tiny") with
        {
            WeightType = WebSsl.Language.Gguf.GgmlType.Q8_0, TokenEmbeddingStd = 0.02, OutputWeightStd = 0.5,
        });
        using VisionEncoder encoder = world.LoadEncoder();
        using LanguageModel llm = LanguageModel.Load(path);
        string output = world.Sub("refused");
        var error = await Assert.ThrowsAsync<TrainingSetupException>(() => Trainer.RunAsync(
            new TrainingInputs { DataFile = world.DataFile, ImageDirectory = world.ImageDirectory, OutputDirectory = output, Encoder = encoder, Llm = llm },
            new TrainingOptions { MaxSteps = 2, LlmCheck = new WebSsl.Training.Llm.LlmCheckCriterion(1e-6, Relative: false) }));
        Assert.Contains("does not reproduce llama.cpp", error.Message);
        Assert.Contains("FAIL: llama (Q8_0)", error.Message);
        Assert.False(File.Exists(Path.Combine(output, "adapter.json")));
    }
}
