using System.Text.Json;
using WebSsl.Language;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Embedding;
using WebSsl.Training.Demo;
using WebSsl.Vision;

namespace WebSsl.Training.Tests.Demo;

public sealed class DemoBundleTests
{
    /// <summary>A few steps on a few images: the real pipeline, end to end, without the minutes a useful model takes.</summary>
    private static readonly DemoOptions Tiny = new() { TrainImages = 12, TestImages = 3, Steps = 2, BatchSize = 4 };

    [Fact]
    public async Task A_build_leaves_servable_models_held_out_scores_and_a_manifest_that_caches_it()
    {
        using var temp = new TempDirectory();
        var stages = new List<string>();
        DemoBundle built = await DemoBundle.BuildAsync(temp.Path, Tiny, new Inline(p => stages.Add(p.Stage)));

        Assert.Equal(["data", "models", "training", "evaluation"], stages.Distinct());
        // The three parts load as a user's models would, and fit together: the adapter accepts this encoder and this LLM.
        using (VisionEncoder encoder = VisionEncoder.Load(built.Resolve(built.EncoderPath)))
        using (LanguageModel llm = LanguageModel.Load(built.Resolve(built.LlmPath)))
        using (Adapter adapter = Adapter.Load(built.Resolve(built.AdapterPath), llm: Identities.Of(llm)))
        {
            Assert.Equal(WebSsl.Vision.Checkpoints.VisionArchitecture.Dinov2, encoder.Config.Architecture);
            Assert.Equal(Tiny.ImageSize, encoder.Config.ImageSize);
            Assert.Equal(Tiny.LlmWidth, llm.EmbeddingSize);
            await using var embedder = ImageEmbedder.ForAdapter(encoder, adapter);
            Assert.Equal((Tiny.ImageSize / 14) * (Tiny.ImageSize / 14), embedder.TokensPerImage);
        }
        Assert.True(File.Exists(Path.Combine(temp.Path, "eval", "report.md")));
        Assert.True(File.Exists(Path.Combine(temp.Path, "eval-blind", "report.md")));
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "adapter", "checkpoints")));
        Assert.InRange(built.Scores.Overall, 0, 1);
        Assert.True(built.Scores.Questions >= 3 * 3, $"{built.Scores.Questions} held-out questions");
        Assert.Equal(built.Scores.Categories.Keys, built.Scores.BlindCategories.Keys);

        DemoBundle? cached = DemoBundle.TryOpen(temp.Path, Tiny);
        Assert.NotNull(cached);
        Assert.Equal(built.Scores.Overall, cached.Scores.Overall);
        Assert.NotNull(DemoBundle.TryOpen(temp.Path)); // serve takes whatever bundle is there
        Assert.Null(DemoBundle.TryOpen(temp.Path, Tiny with { Steps = 3 })); // other settings: build again

        // A bundle missing a part, or with a damaged manifest, is not used.
        File.Move(built.Resolve(built.LlmPath), built.Resolve(built.LlmPath) + ".moved");
        Assert.Null(DemoBundle.TryOpen(temp.Path));
        File.Move(built.Resolve(built.LlmPath) + ".moved", built.Resolve(built.LlmPath));
        File.WriteAllText(Path.Combine(temp.Path, DemoBundle.ManifestFile), "{ not json");
        Assert.Null(DemoBundle.TryOpen(temp.Path));
    }

    [Fact]
    public void The_manifest_records_relative_paths_so_the_bundle_can_move()
    {
        using var temp = new TempDirectory();
        var bundle = new DemoBundle
        {
            Options = Tiny,
            EncoderPath = "adapter/encoder",
            LlmPath = "adapter/llm.gguf",
            AdapterPath = "adapter",
            Scores = new DemoScores(0.5, 0.2, 10, new Dictionary<string, double> { ["count"] = 0.5 }, new Dictionary<string, double> { ["count"] = 0.2 }),
            BuildSeconds = 1,
            TrainSeconds = 1,
        };
        string json = JsonSerializer.Serialize(bundle);
        Assert.Contains("\"llm\":\"adapter/llm.gguf\"", json);
        Assert.DoesNotContain(temp.Path, json);
    }

    private sealed class Inline(Action<DemoProgress> report) : IProgress<DemoProgress>
    {
        public void Report(DemoProgress value) => report(value);
    }
}
