using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Language;
using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Embedding;
using WebSsl.Training.Llm;
using WebSsl.Training.Runs;
using WebSsl.Vision;
using WebSsl.Vision.Images;
using static TorchSharp.torch;

namespace WebSsl.Training.Tests.Runs;

/// <summary>
/// Stage-2 style runs (`--tune llm|all`): the tuned LLM is written back to GGUF and must compute in llama.cpp what it
/// computed in training; the tuned encoder is written as an HF folder and must load to the same features; the three
/// together must answer through the serving path.
/// </summary>
public sealed class TunedTrainingTests(TrainingWorld world) : IClassFixture<TrainingWorld>
{
    private static readonly TrainingOptions Everything = new()
    {
        MaxSteps = 60,
        BatchSize = 8,
        LearningRate = 3e-3,
        WarmupRatio = 0.05,
        CheckpointEvery = 20,
        ValidateEvery = 1000,
        Tune = TuneMode.All,
    };

    [Fact]
    public async Task Tuning_everything_writes_a_GGUF_and_an_encoder_folder_that_serve_the_answers_it_learned()
    {
        string output = world.Sub("tuned-all");
        // A config as transformers writes it, with keys this project does not read: the saved encoder must keep them
        // (and so its config hash, which the adapter checks).
        string source = world.Sub("encoder-with-extra-keys");
        foreach (string file in Directory.GetFiles(world.EncoderDirectory))
        {
            File.Copy(file, Path.Combine(source, Path.GetFileName(file)));
        }
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(source, "config.json")))!.AsObject();
        config["transformers_version"] = "4.48.0";
        config["architectures"] = new System.Text.Json.Nodes.JsonArray("Dinov2Model");
        File.WriteAllText(Path.Combine(source, "config.json"), config.ToJsonString());
        using VisionEncoder encoder = VisionEncoder.Load(source);
        using LanguageModel original = world.LoadLlm();

        TrainingResult result = await Trainer.RunAsync(new TrainingInputs
        {
            DataFile = world.DataFile,
            ImageDirectory = world.ImageDirectory,
            OutputDirectory = output,
            Encoder = encoder,
            Llm = original,
        }, Everything);

        Assert.True(result.FinalTrainLoss < 0.05, $"final loss {result.FinalTrainLoss}");
        string tunedLlmPath = Path.Combine(output, Trainer.TunedLlmFile);
        string tunedEncoderPath = Path.Combine(output, Trainer.TunedEncoderFolder);

        // The GGUF written back computes in llama.cpp what the training copy computes (every position's logits).
        using LanguageModel tuned = LanguageModel.Load(tunedLlmPath);
        using (GgufLlama reread = GgufLlama.Load(tuned.Gguf))
        {
            LlmCheckReport check = await LlmCheck.RunAsync(tuned, reread);
            Assert.True(check.Passed, check.ToString());
        }
        Assert.Contains("(tuned)", tuned.Name);
        Assert.Equal(Identities.Of(original).TokenListHash, Identities.Of(tuned).TokenListHash);

        // The encoder folder holds exactly the weights trained in memory: the same features, bit for bit.
        using VisionEncoder reloaded = VisionEncoder.Load(tunedEncoderPath);
        var preprocess = new PreprocessOptions { Mode = PreprocessMode.Pad };
        using Tensor pixels = encoder.PreprocessFile(Path.Combine(world.ImageDirectory, "chart-3.png"), preprocess);
        using Tensor trained = encoder.EncodeFeatures([pixels]);
        using Tensor fromDisk = reloaded.EncodeFeatures([pixels]);
        Assert.Equal(0.0, (trained - fromDisk).abs().max().item<float>());
        using (VisionEncoder untouched = world.LoadEncoder())
        using (Tensor before = untouched.EncodeFeatures([pixels]))
        {
            Assert.True((trained - before).abs().max().item<float>() > 1e-3, "the encoder should have been trained");
        }

        // Served as a user would: tuned encoder + adapter + tuned GGUF, llama.cpp answering greedily.
        Assert.Equal(File.ReadAllText(Path.Combine(source, "config.json")), File.ReadAllText(Path.Combine(tunedEncoderPath, "config.json")));
        using Adapter adapter = Adapter.Load(output, llm: Identities.Of(tuned));
        Assert.Equal("all", adapter.Manifest.Training!.Tuned);
        int correct = await world.CountCorrectAnswersAsync(reloaded, tuned, adapter);
        Assert.Equal(TrainingWorld.Answers.Length, correct);
    }

    [Fact]
    public async Task A_tuned_run_interrupted_and_started_again_continues_onto_the_same_loss_curve()
    {
        var options = Everything with { MaxSteps = 30, CheckpointEvery = 10, Tune = TuneMode.Llm };
        async Task<(TrainingResult, List<double>)> Run(string output, int? cancelAfter)
        {
            using VisionEncoder encoder = world.LoadEncoder();
            using LanguageModel llm = world.LoadLlm();
            using var cancel = new CancellationTokenSource();
            var losses = new List<double>();
            var progress = new Inline(p =>
            {
                if (p.Message is null && p.Step > 0)
                {
                    losses.Add(p.Loss);
                    if (p.Step == cancelAfter)
                    {
                        cancel.Cancel();
                    }
                }
            });
            var inputs = new TrainingInputs { DataFile = world.DataFile, ImageDirectory = world.ImageDirectory, OutputDirectory = output, Encoder = encoder, Llm = llm };
            return (await Trainer.RunAsync(inputs, options, progress, cancel.Token), losses);
        }

        var (whole, wholeLosses) = await Run(world.Sub("tuned-whole"), cancelAfter: null);
        string interrupted = world.Sub("tuned-interrupted");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Run(interrupted, cancelAfter: 25));
        var (resumed, resumedLosses) = await Run(interrupted, cancelAfter: null);

        Assert.Equal(20, resumed.ResumedFromStep);
        Assert.Equal(wholeLosses.Skip(20), resumedLosses, (a, b) => Math.Abs(a - b) < 1e-4);
        Assert.True(File.Exists(Path.Combine(interrupted, Trainer.TunedLlmFile)));
        Assert.False(Directory.Exists(Path.Combine(interrupted, Trainer.TunedEncoderFolder)), "--tune llm leaves the encoder as it was");
        Assert.Equal(whole.FinalTrainLoss, resumed.FinalTrainLoss, 4);
    }

    private sealed class Inline(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
