using System.Text.Json.Nodes;
using WebSsl.Language;
using WebSsl.Multimodal.Adapters;
using WebSsl.Training.Runs;
using WebSsl.Vision;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Images.Tiling;

namespace WebSsl.Training.Tests.Runs;

/// <summary>Training with tiles: the scheme goes into the adapter, the separators are learned, and serving reads images the same way.</summary>
public sealed class TiledTrainingTests(TrainingWorld world) : IClassFixture<TrainingWorld>
{
    [Fact]
    public async Task A_projector_trained_on_tiled_images_is_answered_correctly_through_the_tiled_serving_path()
    {
        string output = world.Sub("adapter-tiled");
        using VisionEncoder encoder = world.LoadEncoder();
        using LanguageModel llm = world.LoadLlm();
        var tiling = new TilingOptions { MinTiles = 2, MaxTiles = 4 }; // the 56x42 charts become a global view and 2 x 2 tiles of 42 px
        TrainingResult result = await Trainer.RunAsync(new TrainingInputs
        {
            DataFile = world.DataFile,
            ImageDirectory = world.ImageDirectory,
            OutputDirectory = output,
            Encoder = encoder,
            Llm = llm,
        }, new TrainingOptions { MaxSteps = 200, BatchSize = 8, LearningRate = 5e-3, WarmupRatio = 0.05, CheckpointEvery = 1000, ValidateEvery = 1000, Tiling = tiling });
        Assert.True(result.FinalTrainLoss < 0.05, $"final loss {result.FinalTrainLoss}");
        Assert.Equal(8, result.FeatureCacheMisses); // one cached file per image, holding all five of its views

        JsonNode manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "adapter.json")))!;
        Assert.Equal(4, manifest["projector"]!["tiling"]!["max_tiles"]!.GetValue<int>());
        Assert.Equal("aspect", manifest["projector"]!["tiling"]!["selection"]!.GetValue<string>());
        using (SafetensorsFile weights = SafetensorsFile.Open(Path.Combine(output, Adapter.WeightsFile)))
        {
            Assert.Equal([64L], weights.Tensors["image_newline"].Shape);
            Assert.Equal([64L], weights.Tensors["view_separator"].Shape);
        }

        using Adapter adapter = Adapter.Load(output, llm: Identities.Of(llm));
        Assert.Equal(tiling, adapter.Projector.Config.Tiling);
        await using var embedder = Multimodal.Embedding.ImageEmbedder.ForAdapter(encoder, adapter);
        var embedded = await embedder.EmbedAsync(await File.ReadAllBytesAsync(Path.Combine(world.ImageDirectory, "chart-0.png")), "chart-0.png");
        Assert.Equal("global+2x2", embedded.Layout.ToString());
        Assert.Equal(9 + 1 + 4 * 9 + 2, embedded.Embedding.Tokens);
        int correct = await world.CountCorrectAnswersAsync(encoder, llm, adapter);
        Assert.True(correct >= 0.9 * TrainingWorld.Answers.Length, $"{correct} of {TrainingWorld.Answers.Length} answers exact");
    }
}
