using System.CommandLine;
using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Vision;
using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Images;
using WebSsl.Vision.Models;
using static TorchSharp.torch;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary>
/// <c>webssl quickstart</c>: the whole vision path on a fresh machine without downloads. Writes a small random-weight
/// Web-DINO checkpoint in the exact HuggingFace layout and a bar chart, then loads, preprocesses and encodes.
/// </summary>
internal static class QuickstartCommand
{
    public static Command Create(CliContext context)
    {
        var folder = new Option<DirectoryInfo>("--dir")
        {
            Description = "Where the generated checkpoint and chart are kept.",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(".webssl", "quickstart")),
        };
        var shape = new Option<string>("--shape") { Description = "Checkpoint shape to generate.", DefaultValueFactory = _ => "vit-s" };
        var command = new Command("quickstart", "Generate a Web-DINO checkpoint and a chart, and run the encoder on it (no download needed).") { folder, shape };
        command.SetAction((parse, cancellationToken) =>
        {
            string root = parse.GetValue(folder)!.FullName;
            string name = parse.GetValue(shape)!;
            var config = CheckpointGenerator.Shape(name);
            string encoderDir = Path.Combine(root, $"encoder-{name}");
            string chartPath = Path.Combine(root, "chart.png");
            if (!File.Exists(Path.Combine(encoderDir, "config.json")))
            {
                context.Output.WriteLine($"writing a random-weight {name} Web-DINO checkpoint (HuggingFace layout) to {encoderDir}");
                CheckpointGenerator.Write(encoderDir, config, new GeneratorOptions { Preprocessor = PreprocessorConfig.DefaultFor(config.ImageSize) });
            }
            Directory.CreateDirectory(root);
            WriteChart(chartPath);

            var watch = Stopwatch.StartNew();
            using VisionEncoder encoder = VisionEncoder.Load(encoderDir, cancellationToken: cancellationToken);
            long loadMs = watch.ElapsedMilliseconds;
            watch.Restart();
            using Tensor pixels = encoder.PreprocessFile(chartPath, new PreprocessOptions { Mode = PreprocessMode.Pad });
            using Tensor features = encoder.EncodeFeatures([pixels], new FeatureSelection { Layer = -1 }, cancellationToken);
            long encodeMs = watch.ElapsedMilliseconds;

            context.Output.WriteLine($"encoder   {encoder.Name}: {config.Architecture}, hidden {config.HiddenSize}, {config.NumHiddenLayers} layers, patch {config.PatchSize} (loaded in {loadMs} ms)");
            context.Output.WriteLine($"image     {chartPath}: 640x360 bar chart, letterboxed (pad) to {pixels.shape[1]}x{pixels.shape[2]}");
            context.Output.WriteLine($"features  {features.shape[1]} patch tokens x {features.shape[2]} from hidden_states[-1] in {encodeMs} ms; " +
                $"mean {features.mean().item<float>():F4}, std {features.std().item<float>():F4}");
            context.Output.WriteLine("next      webssl features --encoder <a Web-SSL checkpoint folder> --image <your chart> --out features.safetensors");
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>A simple bar chart: white background, axes, five bars of known heights.</summary>
    private static void WriteChart(string path)
    {
        using var chart = new Image<Rgb24>(640, 360, new Rgb24(255, 255, 255));
        int[] heights = [120, 250, 180, 60, 300];
        Rgb24[] colors = [new(66, 133, 244), new(219, 68, 55), new(244, 180, 0), new(15, 157, 88), new(171, 71, 188)];
        for (int x = 40; x < 620; x++)
        {
            chart[x, 330] = new Rgb24(0, 0, 0);
        }
        for (int y = 20; y <= 330; y++)
        {
            chart[40, y] = new Rgb24(0, 0, 0);
        }
        for (int bar = 0; bar < heights.Length; bar++)
        {
            for (int x = 70 + bar * 110; x < 140 + bar * 110; x++)
            {
                for (int y = 330 - heights[bar]; y < 330; y++)
                {
                    chart[x, y] = colors[bar];
                }
            }
        }
        chart.SaveAsPng(path);
    }
}
