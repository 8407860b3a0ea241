using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Language;
using WebSsl.Training.Runs;
using WebSsl.Vision;
using WebSsl.Vision.Benchmarks;

namespace WebSsl.Training.Benchmarks;

/// <summary>Projector training speed with the encoder running (first epoch) and with cached features (later epochs).</summary>
public sealed record TrainBenchmarkReport(int Samples, double UncachedSamplesPerSecond, double CachedSamplesPerSecond, long PeakResidentBytes,
    long LlmFloat32Bytes, long EncoderParameters)
{
    public double CacheSpeedup => CachedSamplesPerSecond / UncachedSamplesPerSecond;
}

public static class TrainBenchmark
{
    /// <summary>
    /// Trains two epochs over <paramref name="samples"/> synthetic records (batch 1, one image each): every step of the
    /// first epoch runs the encoder, every step of the second reads the feature cache, so the two rates come from one run.
    /// </summary>
    public static async Task<TrainBenchmarkReport> RunAsync(VisionEncoder encoder, LanguageModel llm, string workDirectory, int samples = 4,
        int? tokenGrid = 8, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(workDirectory);
        string images = Directory.CreateDirectory(Path.Combine(workDirectory, "images")).FullName;
        var records = new JsonArray();
        var random = new Random(1);
        for (int i = 0; i < samples; i++)
        {
            using var image = new Image<Rgb24>(320, 240);
            image.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                {
                    foreach (ref Rgb24 pixel in rows.GetRowSpan(y))
                    {
                        pixel = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                    }
                }
            });
            image.SaveAsPng(Path.Combine(images, $"{i}.png"));
            records.Add(new JsonObject
            {
                ["id"] = $"bench-{i}",
                ["image"] = $"{i}.png",
                ["conversations"] = new JsonArray(
                    new JsonObject { ["from"] = "human", ["value"] = "<image>\nWhat is the value of the highest bar?" },
                    new JsonObject { ["from"] = "gpt", ["value"] = $"The highest bar is {i + 10}." }),
            });
        }
        string data = Path.Combine(workDirectory, "bench.json");
        File.WriteAllText(data, records.ToJsonString());
        string output = Path.Combine(workDirectory, "adapter");
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }
        ProcessMemory.TryResetPeak();
        await Trainer.RunAsync(new TrainingInputs
        {
            DataFile = data,
            ImageDirectory = images,
            OutputDirectory = output,
            Encoder = encoder,
            Llm = llm,
        }, new TrainingOptions
        {
            Epochs = 2,
            BatchSize = 1,
            TokenGrid = tokenGrid,
            ValidationFraction = 0,
            CheckpointEvery = int.MaxValue,
            ValidateEvery = int.MaxValue,
            Resume = false,
        }, cancellationToken: cancellationToken);
        long peak = ProcessMemory.PeakResidentBytes ?? 0;

        // Per-step times from the log: elapsed_s is cumulative.
        double[] elapsed = File.ReadLines(Path.Combine(output, TrainingLog.LogFile))
            .Select(l => JsonNode.Parse(l)!)
            .Where(n => n["type"]!.GetValue<string>() == "train")
            .Select(n => n["elapsed_s"]!.GetValue<double>())
            .ToArray();
        double firstEpoch = elapsed[samples - 1];
        double secondEpoch = elapsed[2 * samples - 1] - elapsed[samples - 1];
        long encoderParameters = encoder.Model.parameters().Sum(p => p.numel());
        long llmBytes = llm.Gguf.Tensors.Sum(t => t.ElementCount) * 4;
        return new TrainBenchmarkReport(samples, samples / firstEpoch, samples / secondEpoch, peak, llmBytes, encoderParameters);
    }
}
