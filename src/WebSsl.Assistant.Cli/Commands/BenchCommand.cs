using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WebSsl.Vision.Benchmarks;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Runtime;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl bench ...</c>: performance figures measured as ratios within one run.</summary>
internal static class BenchCommand
{
    public static Command Create(CliContext context) => new("bench", "Benchmarks that report ratios measured in the same process.")
    {
        Encoder(context),
        Load(context),
    };

    private static Command Encoder(CliContext context)
    {
        var shapes = new Option<string>("--shapes")
        {
            Description = $"Comma-separated shapes ({string.Join(", ", CheckpointGenerator.Shapes.Keys)}).",
            DefaultValueFactory = _ => "dino300m,dino1b",
        };
        var quick = new Option<bool>("--quick") { Description = "Use the small ViT-S/ViT-B shapes (seconds instead of minutes)." };
        var resolution = new Option<int>("--resolution") { DefaultValueFactory = _ => 224, Description = "Square input side." };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 1, Description = "Images per forward pass." };
        var iterations = new Option<int>("--iterations") { DefaultValueFactory = _ => 7, Description = "Timed forward passes (median reported)." };
        Option<int?> threads = SharedOptions.Threads();
        var command = new Command("encoder", "Random-weight Web-SSL encoders: ms/image, GFLOP/s, and the ratio to this process's SGEMM GFLOP/s.")
        {
            shapes, quick, resolution, batch, iterations, threads,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            TorchRuntime.EnsureInitialized(parse.GetValue(threads));
            string[] names = parse.GetValue(quick) ? ["vit-s", "vit-b"] : ParseShapes(parse.GetValue(shapes)!);
            var table = new Table().AddColumns("shape", "params", "tokens", "batch", "GFLOP/img", "ms/img", "GFLOP/s", "SGEMM GFLOP/s", "ratio", "GEMM share");
            foreach (string name in names)
            {
                cancellationToken.ThrowIfCancellationRequested();
                EncoderBenchmarkResult r = EncoderBenchmark.Run(name, CheckpointGenerator.Shapes[name], parse.GetValue(resolution), parse.GetValue(batch),
                    parse.GetValue(iterations));
                table.AddRow(r.Shape, $"{r.Parameters / 1e6:F0}M", $"{r.Tokens}", $"{r.Batch}", F(r.GflopPerImage, 1), F(r.MillisecondsPerImage, 0),
                    F(r.Gflops, 1), F(r.SgemmGflops, 1), F(r.Ratio, 2), F(r.GemmShare, 2));
            }
            context.Console.Write(table);
            context.Output.WriteLine($"threads {TorchSharp.torch.get_num_threads()}; ratio = median over passes of encoder GFLOP/s / SGEMM GFLOP/s (2048^3 float32) measured just before each pass;");
            context.Output.WriteLine("GEMM share = time of the encoder's own projections run alone / time of the whole forward pass (1.0 = nothing but GEMM).");
            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Load(CliContext context)
    {
        var shape = new Option<string>("--shape") { DefaultValueFactory = _ => "dino300m", Description = "Checkpoint shape to generate and load." };
        var dtype = new Option<string>("--stored") { DefaultValueFactory = _ => "F32", Description = "Stored type: F32, F16 or BF16." };
        var dir = new Option<DirectoryInfo?>("--dir") { Description = "Where the generated checkpoint is kept (reused when present); default: a temporary folder deleted afterwards." };
        var command = new Command("load", "Generate a checkpoint of a published shape, load it, and report peak memory relative to its float32 weights.")
        {
            shape, dtype, dir,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            string name = ParseShapes(parse.GetValue(shape)!).Single();
            SafetensorsDType stored = Enum.Parse<SafetensorsDType>(parse.GetValue(dtype)!, ignoreCase: true);
            string folder = parse.GetValue(dir)?.FullName ?? Path.Combine(Path.GetTempPath(), $"webssl-bench-load-{Guid.NewGuid():N}");
            try
            {
                bool reused = File.Exists(Path.Combine(folder, VisionCheckpoint.ConfigFile));
                context.Output.WriteLine(reused ? $"loading the checkpoint in {folder}" : $"writing a random {name} checkpoint ({stored}) to {folder} ...");
                LoadBenchmark.EnsureCheckpoint(folder, CheckpointGenerator.Shapes[name], stored);
                cancellationToken.ThrowIfCancellationRequested();
                LoadBenchmarkResult r = LoadBenchmark.Run(name, folder);
                context.Output.WriteLine(
                    $"{r.Shape} ({r.Parameters / 1e6:F0}M parameters, stored {r.Stored}) loaded in {r.LoadTime.TotalSeconds:F2} s; " +
                    $"float32 weights {Mb(r.Float32Bytes)}; resident before {Mb(r.BaselineBytes)}, peak during load {Mb(r.PeakBytes)}; " +
                    $"peak added / weights = {r.PeakOverWeights:F3}");
            }
            finally
            {
                if (parse.GetValue(dir) is null && Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            return Task.FromResult(0);
        });
        return command;
    }

    private static string[] ParseShapes(string text)
    {
        string[] names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string name in names)
        {
            _ = CheckpointGenerator.Shape(name);
        }
        return names;
    }

    private static string F(double value, int digits) => value.ToString("F" + digits, CultureInfo.InvariantCulture);

    private static string Mb(long bytes) => $"{bytes / (1024.0 * 1024):F0} MiB";
}
