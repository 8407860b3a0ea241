using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WebSsl.Language;
using WebSsl.Language.Benchmarks;
using WebSsl.Language.Fixtures;
using WebSsl.Training.Benchmarks;
using WebSsl.Vision;
using WebSsl.Vision.Benchmarks;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Images.Tiling;
using WebSsl.Vision.Runtime;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl bench ...</c>: performance figures measured as ratios within one run.</summary>
internal static class BenchCommand
{
    public static Command Create(CliContext context) => new("bench", "Benchmarks that report ratios measured in the same process.")
    {
        Encoder(context),
        Load(context),
        Llm(context),
        Train(context),
        Tiles(context),
    };

    private static Command Tiles(CliContext context)
    {
        var encoder = new Option<DirectoryInfo?>("--encoder") { Description = "Encoder checkpoint; default: a generated random checkpoint of --shape." };
        var shape = new Option<string>("--shape") { DefaultValueFactory = _ => "dino300m", Description = "Encoder shape generated when no --encoder is given." };
        var llm = new Option<FileInfo?>("--llm") { Description = "GGUF; default: a generated random model of --llm-shape." };
        var llmShape = new Option<string>("--llm-shape") { DefaultValueFactory = _ => "qwen2.5-0.5b", Description = "LLM shape generated when no --llm is given." };
        var maxTiles = new Option<int>("--max-tiles") { DefaultValueFactory = _ => 12, Description = "Tile budget (InternVL's default is 12)." };
        var pages = new Option<int>("--pages") { DefaultValueFactory = _ => 3, Description = "Synthetic A4 pages timed (after one warm-up page); the median is reported." };
        Option<int?> threads = SharedOptions.Threads();
        var command = new Command("tiles", "Image tokens per A4 page for 224/378/518 encoders with and without tiles and 2x2 merging, tokens auto saves, " +
            "and pages/s encoded and time to first token for a page, tiled and as one view.")
        {
            encoder, shape, llm, llmShape, maxTiles, pages, threads,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string encoderPath = parse.GetValue(encoder)?.FullName ?? GeneratedEncoder(context, ParseShapes(parse.GetValue(shape)!).Single());
            string llmPath = parse.GetValue(llm)?.FullName ?? GeneratedModel(context, parse.GetValue(llmShape)!);
            var options = new TileBenchmarkOptions { MaxTiles = parse.GetValue(maxTiles), Pages = parse.GetValue(pages) };
            new TilingOptions { MaxTiles = options.MaxTiles }.Validate();
            if (options.Pages is < 1 or > 100)
            {
                throw new BadInputException($"--pages {options.Pages}: time between 1 and 100 pages.");
            }
            string work = Path.Combine(Path.GetTempPath(), $"webssl-bench-tiles-{Guid.NewGuid():N}");
            try
            {
                TileBenchmarkReport r = await TileBenchmark.RunAsync(encoderPath, llmPath, work, options, parse.GetValue(threads), cancellationToken);
                context.Output.WriteLine($"image tokens of one {r.PageWidth}x{r.PageHeight} page (A4 at 150 dpi), up to {options.MaxTiles} tiles; " +
                    "10-pt text is 21 px high on the page:");
                var tokens = new Table().AddColumns("encoder", "read as", "views", "10-pt text as seen", "tokens", "tokens, 2x2 merge");
                foreach (PageTokens t in r.Tokens)
                {
                    tokens.AddRow($"{t.Resolution}px", t.Layout, $"{t.Views}", $"{F(t.TextPixels, 1)} px", $"{t.Tokens}",
                        t.MergeNote is null ? $"{t.MergedTokens}" : $"{t.MergedTokens} ({t.MergeNote})");
                }
                context.Console.Write(tokens);
                context.Output.WriteLine($"auto (as few tiles as the detail needs) against the fixed budget of {options.MaxTiles}, mean tokens per image at the encoder's resolution:");
                var auto = new Table().AddColumns("kind", "images", "fixed tokens", "auto tokens", "auto / fixed", "auto tiles");
                foreach (AutoChoice a in r.Auto)
                {
                    auto.AddRow(a.Kind, $"{a.Images}", F(a.FixedTokens, 0), F(a.AutoTokens, 0), F(a.AutoTokens / a.FixedTokens, 2), F(a.AutoTiles, 1));
                }
                context.Console.Write(auto);
                context.Output.WriteLine($"timed: {r.Encoder} ({r.Resolution}px) + {Path.GetFileName(llmPath)}, one new page per question, median of {options.Pages}:");
                var timing = new Table().AddColumns("read as", "views", "image tokens", "encode ms/page", "pages/s", "encode ms/view", "prefill ms", "first token ms");
                foreach (PageTiming p in new[] { r.Single, r.Tiled })
                {
                    timing.AddRow(p.Layout, $"{p.Views}", $"{p.ImageTokens}", F(p.EncodeMilliseconds, 0), F(p.PagesPerSecond, 3), F(p.MillisecondsPerView, 0),
                        F(p.PrefillMilliseconds, 0), F(p.FirstTokenMilliseconds, 0));
                }
                context.Console.Write(timing);
                context.Output.WriteLine($"encoder time per view, tiled (views batched) / one view: {F(r.PerViewRatio, 2)}; " +
                    $"first token, tiled / one view: {F(r.Tiled.FirstTokenMilliseconds / r.Single.FirstTokenMilliseconds, 1)}x for " +
                    $"{F((double)r.Tiled.ImageTokens / r.Single.ImageTokens, 1)}x the image tokens");
            }
            finally
            {
                if (Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
            return 0;
        });
        return command;
    }

    private static Command Train(CliContext context)
    {
        var encoder = new Option<DirectoryInfo?>("--encoder") { Description = "Encoder checkpoint; default: a generated random dino300m (ViT-L) checkpoint." };
        var llm = new Option<FileInfo?>("--llm") { Description = "GGUF; default: a generated random Qwen2.5-0.5B-shaped model." };
        var samples = new Option<int>("--samples") { DefaultValueFactory = _ => 4, Description = "Records per epoch (two epochs run)." };
        var grid = new Option<int?>("--token-grid") { DefaultValueFactory = _ => 8, Description = "Image tokens per side fed to the LLM." };
        Option<int?> threads = SharedOptions.Threads();
        var command = new Command("train", "Projector training samples/s with the encoder running and with cached features, and peak memory.")
        {
            encoder, llm, samples, grid, threads,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string encoderPath = parse.GetValue(encoder)?.FullName ?? GeneratedEncoder(context, "dino300m");
            string llmPath = parse.GetValue(llm)?.FullName ?? GeneratedModel(context, "qwen2.5-0.5b");
            using VisionEncoder vision = VisionEncoder.Load(encoderPath, new VisionEncoderOptions { Threads = parse.GetValue(threads) }, cancellationToken);
            using LanguageModel model = LanguageModel.Load(llmPath);
            string work = Path.Combine(Path.GetTempPath(), $"webssl-bench-train-{Guid.NewGuid():N}");
            try
            {
                TrainBenchmarkReport r = await TrainBenchmark.RunAsync(vision, model, work, parse.GetValue(samples), parse.GetValue(grid), cancellationToken);
                var table = new Table().AddColumns("measure", "value");
                table.AddRow("encoder", $"{vision.Name} ({r.EncoderParameters / 1e6:F0}M parameters, {vision.Config.ImageSize}px)");
                table.AddRow("LLM", $"{model.Name} ({model.Architecture}, n_embd {model.EmbeddingSize}, float32 training copy {Mb(r.LlmFloat32Bytes)})");
                table.AddRow("samples/s, encoder running (epoch 1)", F(r.UncachedSamplesPerSecond, 3));
                table.AddRow("samples/s, cached features (epoch 2)", F(r.CachedSamplesPerSecond, 3));
                table.AddRow("cache speed-up", $"{F(r.CacheSpeedup, 2)}x");
                table.AddRow("peak resident memory during training", Mb(r.PeakResidentBytes));
                context.Console.Write(table);
            }
            finally
            {
                if (Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
            return 0;
        });
        return command;
    }

    /// <summary>A random encoder checkpoint of a named shape, generated once into .webssl/bench and reused.</summary>
    private static string GeneratedEncoder(CliContext context, string shapeName)
    {
        string path = Path.GetFullPath(Path.Combine(".webssl", "bench", $"encoder-{shapeName}"));
        if (!File.Exists(Path.Combine(path, VisionCheckpoint.ConfigFile)))
        {
            context.Output.WriteLine($"writing a random {shapeName} encoder checkpoint to {path} (once) ...");
            CheckpointGenerator.Write(path, CheckpointGenerator.Shape(shapeName));
        }
        return path;
    }

    private static Command Llm(CliContext context)
    {
        var llm = new Option<FileInfo?>("--llm") { Description = "GGUF to measure; default: a generated random model of --shape." };
        var shape = new Option<string>("--shape") { DefaultValueFactory = _ => "qwen2.5-0.5b", Description = "Shape generated when no --llm is given." };
        var sessions = new Option<string>("--sessions") { DefaultValueFactory = _ => "1,4,8", Description = "Concurrent sessions to measure." };
        var tokens = new Option<int>("--tokens") { DefaultValueFactory = _ => 64, Description = "Tokens generated per session." };
        var prompt = new Option<int>("--prompt") { DefaultValueFactory = _ => 256, Description = "Prompt length for the prefill figures." };
        Option<int?> threads = SharedOptions.Threads();
        var command = new Command("llm", "Generation through the engine vs a bare LLamaSharp loop, prefill speed, and aggregate speed with concurrent sessions.")
        {
            llm, shape, sessions, tokens, prompt, threads,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string path = parse.GetValue(llm)?.FullName ?? GeneratedModel(context, parse.GetValue(shape)!);
            using LanguageModel model = LanguageModel.Load(path);
            int[] counts = parse.GetValue(sessions)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            LlmBenchmarkReport r = await LlmBenchmark.RunAsync(model, new LlmBenchmarkOptions
            {
                GeneratedTokens = parse.GetValue(tokens),
                PromptTokens = parse.GetValue(prompt),
                Sessions = counts,
                Threads = parse.GetValue(threads),
            }, cancellationToken);
            context.Output.WriteLine($"model {r.Model} ({model.Architecture}, n_embd {model.EmbeddingSize}, {model.Weights.ParameterCount / 1e6:F0}M parameters, {path})");
            var table = new Table().AddColumns("measure", "value");
            table.AddRow("generation, engine (1 session)", $"{F(r.EngineTokensPerSecond, 1)} tokens/s");
            table.AddRow("generation, bare LLamaSharp loop", $"{F(r.BareTokensPerSecond, 1)} tokens/s");
            table.AddRow("engine / bare", F(r.EngineOverBare, 3));
            table.AddRow($"prefill, {parse.GetValue(prompt)} text tokens", $"{F(r.TokenPrefillPerSecond, 0)} tokens/s");
            table.AddRow($"prefill, {parse.GetValue(prompt)} image embeddings", $"{F(r.EmbeddingPrefillPerSecond, 0)} positions/s");
            double single = r.Concurrency.FirstOrDefault(c => c.Sessions == 1)?.AggregateTokensPerSecond ?? r.Concurrency[0].AggregateTokensPerSecond;
            foreach (ConcurrencyResult c in r.Concurrency)
            {
                table.AddRow($"aggregate, {c.Sessions} sessions", $"{F(c.AggregateTokensPerSecond, 1)} tokens/s ({F(c.AggregateTokensPerSecond / single, 2)}x 1 session); " +
                    $"llama.cpp batch of {c.Sessions} alone: {F(c.BareBatchedTokensPerSecond, 1)} tokens/s (engine {F(c.EngineOverBareBatched, 2)} of it)");
            }
            context.Console.Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>A random model of a named shape, generated once into .webssl/bench and reused.</summary>
    private static string GeneratedModel(CliContext context, string shapeName)
    {
        LlamaShape shape = LlamaShape.Get(shapeName);
        string path = Path.GetFullPath(Path.Combine(".webssl", "bench", $"{shapeName}-random.gguf"));
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            context.Output.WriteLine($"writing a random {shapeName} model to {path} (once) ...");
            TinyLlamaBuilder.WriteRandom(path, shape);
        }
        return path;
    }

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
