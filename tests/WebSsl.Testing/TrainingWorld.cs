using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Language;
using WebSsl.Language.Fixtures;
using WebSsl.Vision;
using WebSsl.Vision.Fixtures;

namespace WebSsl.Testing;

/// <summary>
/// A complete, tiny world for training: a Web-DINO-shaped encoder and a llama GGUF generated in their real layouts,
/// images that differ visibly, and a LLaVA JSON whose answers are single known tokens. The LLM has small token
/// embeddings and a confident output layer, like a trained model, so that image tokens can steer it.
/// (Shared by the training, CLI, Semantic Kernel and server tests.)
/// </summary>
public sealed class TrainingWorld : IDisposable
{
    public static readonly string[] Answers = ["bar", "line", "pie", "table", "chart", "total", "title", "year"];

    public TrainingWorld()
    {
        EncoderDirectory = Sub("encoder");
        CheckpointGenerator.Write(EncoderDirectory, CheckpointGenerator.Dino(32, 2, 4, 42, swiglu: true), new GeneratorOptions { Seed = 5 });
        LlmPath = File("llm.gguf");
        TinyLlamaBuilder.WriteRandom(LlmPath, LlamaShape.Get("tiny") with { TokenEmbeddingStd = 0.02, OutputWeightStd = 0.5 }, seed: 21);
        ImageDirectory = Sub("images");
        var records = new JsonArray();
        for (int i = 0; i < Answers.Length; i++)
        {
            string name = $"chart-{i}.png";
            using (var image = new Image<Rgb24>(56, 42))
            {
                for (int y = 0; y < 42; y++)
                {
                    for (int x = 0; x < 56; x++)
                    {
                        // Each image has its own colors and stripes.
                        bool stripe = (x / (3 + i) + y / (2 + i % 3)) % 2 == 0;
                        image[x, y] = stripe ? new Rgb24((byte)(30 * i), (byte)(255 - 25 * i), (byte)(90 + 20 * i)) : new Rgb24((byte)(200 - 20 * i), 40, (byte)(15 * i));
                    }
                }
                image.SaveAsPng(Path.Combine(ImageDirectory, name));
            }
            records.Add(new JsonObject
            {
                ["id"] = $"chart-{i}",
                ["image"] = name,
                ["conversations"] = new JsonArray(
                    new JsonObject { ["from"] = "human", ["value"] = "<image>\nwhat is this?" },
                    new JsonObject { ["from"] = "gpt", ["value"] = Answers[i] }),
            });
        }
        DataFile = File("train.json");
        System.IO.File.WriteAllText(DataFile, records.ToJsonString());
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("webssl-training-world-").FullName;
    public string EncoderDirectory { get; }
    public string LlmPath { get; }
    public string ImageDirectory { get; }
    public string DataFile { get; }

    public VisionEncoder LoadEncoder() => VisionEncoder.Load(EncoderDirectory);

    public LanguageModel LoadLlm() => LanguageModel.Load(LlmPath);

    /// <summary>
    /// The serving path on every image: embedded by the encoder and the adapter, asked "what is this?", answered greedily
    /// by llama.cpp. Returns how many answers are exactly the trained one and end with end-of-generation.
    /// </summary>
    public async Task<int> CountCorrectAnswersAsync(VisionEncoder encoder, LanguageModel llm, WebSsl.Multimodal.Adapters.Adapter adapter)
    {
        await using var embedder = WebSsl.Multimodal.Embedding.ImageEmbedder.ForAdapter(encoder, adapter);
        using var engine = WebSsl.Language.Engine.LanguageEngine.Create(llm, new WebSsl.Language.Engine.EngineOptions { MaxSessions = 1, ContextSize = 512, MaxSessionTokens = 512 });
        var prompts = new WebSsl.Language.Prompting.PromptBuilder(WebSsl.Language.Prompting.ChatTemplate.For(llm), llm);
        int correct = 0;
        for (int i = 0; i < Answers.Length; i++)
        {
            using Image<Rgb24> image = WebSsl.Vision.Images.ImageLoader.LoadFile(Path.Combine(ImageDirectory, $"chart-{i}.png"));
            using WebSsl.Language.Engine.EngineSession session = engine.CreateSession();
            var answer = await engine.CompleteAsync(session, prompts.Build([WebSsl.Language.Prompting.ChatTurn.User("<image>\nwhat is this?", embedder.Embed(image))]),
                WebSsl.Language.Engine.SamplingOptions.Greedy with { MaxTokens = 8 });
            correct += answer.Text.Trim() == Answers[i] && answer.FinishReason == WebSsl.Language.Engine.FinishReason.EndOfGeneration ? 1 : 0;
        }
        return correct;
    }

    public string File(string name) => Path.Combine(Root, name);

    public string Sub(string name) => Directory.CreateDirectory(Path.Combine(Root, name)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
