using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Language;
using WebSsl.Language.Fixtures;
using WebSsl.Vision;
using WebSsl.Vision.Fixtures;

namespace WebSsl.Training.Tests.Training;

/// <summary>
/// A complete, tiny world for training: a Web-DINO-shaped encoder and a llama GGUF generated in their real layouts,
/// images that differ visibly, and a LLaVA JSON whose answers are single known tokens. The LLM has small token
/// embeddings and a confident output layer, like a trained model, so that image tokens can steer it.
/// (Also compiled into the CLI tests, which train through the webssl command.)
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
