using System.CommandLine;
using Spectre.Console;
using WebSsl.Language;
using WebSsl.Language.Prompting;
using WebSsl.Training.Data;
using WebSsl.Training.Llm;
using WebSsl.Training.Runs;
using WebSsl.Vision;
using WebSsl.Vision.Images;
using WebSsl.Vision.Images.Tiling;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl check-llm</c>, <c>webssl validate-data</c> and <c>webssl train</c>.</summary>
internal static class TrainingCommands
{
    /// <summary>Exit code of check-llm when the check fails (the model can be served but not trained against).</summary>
    public const int CheckFailed = 3;

    public static Command CheckLlm(CliContext context)
    {
        var llm = new Option<FileInfo>("--llm") { Required = true, Description = "GGUF model file." };
        var command = new Command("check-llm", "Compare the TorchSharp training copy of an LLM with llama.cpp on a fixed prompt (text and injected embeddings).") { llm };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using LanguageModel model = LanguageModel.Load(parse.GetValue(llm)!.FullName);
            using GgufLlama llama = GgufLlama.Load(model.Gguf);
            LlmCheckReport report = await LlmCheck.RunAsync(model, llama, cancellationToken: cancellationToken);
            await context.Output.WriteLineAsync($"{model.Path}");
            await context.Output.WriteLineAsync(report.ToString());
            return report.Passed ? 0 : CheckFailed;
        });
        return command;
    }

    public static Command ValidateData(CliContext context)
    {
        var data = new Option<FileInfo>("--data") { Required = true, Description = "LLaVA JSON/JSONL or messages JSONL." };
        var images = new Option<DirectoryInfo?>("--images") { Description = "Folder image paths are relative to (default: the data file's folder)." };
        var llm = new Option<FileInfo?>("--llm") { Description = "GGUF whose tokenizer and template check lengths and masking." };
        var template = new Option<string?>("--template") { Description = "Chat template name (default: the model's own)." };
        var imageTokens = new Option<int>("--image-tokens") { DefaultValueFactory = _ => 576, Description = "Positions each image takes (e.g. 576 for a 24x24 grid)." };
        var context_ = new Option<int>("--max-length") { DefaultValueFactory = _ => 2048, Description = "Longest training sequence." };
        var strict = new Option<bool>("--strict") { Description = "Exit with an error when any record has a problem." };
        var command = new Command("validate-data", "Check every record before training: images, <image> markers, answers, lengths, masking.")
        {
            data, images, llm, template, imageTokens, context_, strict,
        };
        command.SetAction((parse, _) =>
        {
            LanguageModel? model = parse.GetValue(llm) is { } file ? LanguageModel.Load(file.FullName) : null;
            try
            {
                SequenceBuilder? sequences = model is null ? null
                    : new SequenceBuilder(model, new PromptBuilder(ChatTemplate.For(model, parse.GetValue(template)), model), parse.GetValue(imageTokens), parse.GetValue(context_));
                ValidationReport report = DataValidator.Validate(parse.GetValue(data)!.FullName, parse.GetValue(images)?.FullName, sequences);
                foreach (DatasetProblem problem in report.Problems)
                {
                    context.Output.WriteLine(problem.ToString());
                }
                context.Output.WriteLine($"{report.TotalRecords} records: {report.Valid.Count} usable, {report.Problems.Count} with problems" +
                    (parse.GetValue(strict) ? "." : $" (training drops them; --strict fails instead).") +
                    (model is null ? " Token lengths and masking were not checked (no --llm)." : ""));
                return Task.FromResult(report.Problems.Count > 0 && parse.GetValue(strict) ? WebSslCli.InputError : 0);
            }
            finally
            {
                model?.Dispose();
            }
        });
        return command;
    }

    public static Command Train(CliContext context)
    {
        var data = new Option<FileInfo>("--data") { Required = true, Description = "LLaVA JSON/JSONL or messages JSONL." };
        var images = new Option<DirectoryInfo?>("--images") { Description = "Image folder (default: the data file's folder)." };
        var encoder = new Option<DirectoryInfo>("--encoder") { Required = true, Description = "Web-SSL checkpoint folder." };
        var llm = new Option<FileInfo>("--llm") { Required = true, Description = "The GGUF the adapter will be served with." };
        var output = new Option<DirectoryInfo>("--out") { Required = true, Description = "Adapter folder to write (also holds checkpoints and logs)." };
        var epochs = new Option<double>("--epochs") { DefaultValueFactory = _ => 1 };
        var maxSteps = new Option<int?>("--max-steps");
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 8 };
        var accumulation = new Option<int>("--grad-accum") { DefaultValueFactory = _ => 1, Description = "Micro-batches per optimizer step." };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-3 };
        var warmup = new Option<double>("--warmup-ratio") { DefaultValueFactory = _ => 0.03 };
        var decay = new Option<double>("--weight-decay") { DefaultValueFactory = _ => 0 };
        var clip = new Option<double>("--max-grad-norm") { DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var projector = new Option<string>("--projector") { DefaultValueFactory = _ => "mlp2x_gelu", Description = "linear, mlp2x_gelu, mlp<N>x_gelu." };
        var grid = new Option<int?>("--token-grid") { Description = "Resize patch grids to N x N tokens (e.g. 24 -> 576)." };
        var tiles = new Option<string?>("--tiles")
        {
            Description = "Read each image as a global view plus tiles: N (up to N tiles, grid by aspect ratio), auto or auto:N (as few tiles as the " +
                "image's detail needs, up to N), none (default: one view). Recorded in the adapter.",
        };
        var merge = new Option<int?>("--token-merge") { Description = "Merge each N x N block of patch features into one token before projecting (2: 4x fewer tokens)." };
        var layer = new Option<int>("--layer") { DefaultValueFactory = _ => -1, Description = "hidden_states index of the features." };
        Option<string> preprocess = SharedOptions.Preprocess();
        preprocess.DefaultValueFactory = _ => "pad";
        Option<int?> resolution = SharedOptions.Resolution();
        var template = new Option<string?>("--template") { Description = "Chat template name (default: the model's own)." };
        var system = new Option<string?>("--system") { Description = "System prompt added to every record (and used when serving)." };
        var checkpointEvery = new Option<int>("--checkpoint-every") { DefaultValueFactory = _ => 100 };
        var validateEvery = new Option<int>("--validate-every") { DefaultValueFactory = _ => 100 };
        var validationFraction = new Option<double>("--val-fraction") { DefaultValueFactory = _ => 0.05 };
        var strict = new Option<bool>("--strict") { Description = "Fail on any bad record instead of dropping it." };
        var resume = new Option<bool>("--resume") { Description = "Require a checkpoint in --out and continue from it (resuming is automatic when one exists)." };
        var noResume = new Option<bool>("--no-resume") { Description = "Start over even if --out holds checkpoints." };
        var cache = new Option<DirectoryInfo?>("--feature-cache") { Description = "Encoder feature cache folder (default: --out/feature-cache)." };
        var tune = new Option<string>("--tune")
        {
            DefaultValueFactory = _ => "projector",
            Description = "What is trained: projector (stage 1, encoder and LLM frozen), llm (stage 2: projector and LLM; the tuned LLM is written as llm.gguf) " +
                "or all (also the encoder, written as an HF folder encoder/).",
        };
        tune.AcceptOnlyFromAmong("projector", "llm", "all");
        Option<int?> threads = SharedOptions.Threads();
        var command = new Command("train", "Train a projector from a Web-SSL encoder into a local LLM (and optionally the LLM and encoder too), and write an adapter folder.")
        {
            data, images, encoder, llm, output, epochs, maxSteps, batch, accumulation, lr, warmup, decay, clip, seed, projector, grid, tiles, merge, layer,
            preprocess, resolution, template, system, checkpointEvery, validateEvery, validationFraction, strict, resume, noResume, cache, tune, threads,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string outputPath = parse.GetValue(output)!.FullName;
            if (parse.GetValue(resume) && TrainingCheckpoint.Latest(outputPath) is null)
            {
                throw new BadInputException($"--resume: {outputPath} holds no checkpoint to continue from.");
            }
            using VisionEncoder vision = VisionEncoder.Load(parse.GetValue(encoder)!.FullName, new VisionEncoderOptions { Threads = parse.GetValue(threads) }, cancellationToken);
            using LanguageModel model = LanguageModel.Load(parse.GetValue(llm)!.FullName);
            var options = new TrainingOptions
            {
                Epochs = parse.GetValue(epochs),
                MaxSteps = parse.GetValue(maxSteps),
                BatchSize = parse.GetValue(batch),
                GradientAccumulation = parse.GetValue(accumulation),
                LearningRate = parse.GetValue(lr),
                WarmupRatio = parse.GetValue(warmup),
                WeightDecay = parse.GetValue(decay),
                MaxGradNorm = parse.GetValue(clip),
                Seed = parse.GetValue(seed),
                Projector = parse.GetValue(projector)!,
                TokenGrid = parse.GetValue(grid),
                TokenMerge = parse.GetValue(merge),
                Tiling = TilingOptions.Parse(parse.GetValue(tiles)),
                CheckpointEvery = parse.GetValue(checkpointEvery),
                ValidateEvery = parse.GetValue(validateEvery),
                ValidationFraction = parse.GetValue(validationFraction),
                Strict = parse.GetValue(strict),
                Resume = !parse.GetValue(noResume),
                Tune = Enum.Parse<TuneMode>(parse.GetValue(tune)!, ignoreCase: true),
            };
            var inputs = new TrainingInputs
            {
                DataFile = parse.GetValue(data)!.FullName,
                ImageDirectory = parse.GetValue(images)?.FullName,
                OutputDirectory = outputPath,
                Encoder = vision,
                Features = new FeatureSelection { Layer = parse.GetValue(layer) },
                Preprocess = new PreprocessOptions { Mode = SharedOptions.ParseMode(parse.GetValue(preprocess)!), Resolution = parse.GetValue(resolution) },
                Llm = model,
                Template = parse.GetValue(template),
                SystemPrompt = parse.GetValue(system),
                FeatureCacheDirectory = parse.GetValue(cache)?.FullName,
            };
            TrainingResult result = context.IsTerminal
                ? await TrainWithProgressBar(context, inputs, options, cancellationToken)
                : await Trainer.RunAsync(inputs, options, new Progress<TrainingProgress>(p => WriteLine(context, p)), cancellationToken);
            await context.Output.WriteLineAsync(
                $"adapter written to {result.AdapterDirectory}: {result.Steps} steps{(result.ResumedFromStep > 0 ? $" (resumed after step {result.ResumedFromStep})" : "")}, " +
                $"{result.TrainRecords} training / {result.ValidationRecords} validation records, {result.DroppedRecords} dropped, final loss {result.FinalTrainLoss:F4}" +
                (result.Validation is { } v ? $", validation loss {v.Loss:F4}, exact {v.ExactMatch:P1}, relaxed {v.RelaxedAccuracy:P1}" : "") +
                $"; feature cache {result.FeatureCacheHits} hits, {result.FeatureCacheMisses} misses");
            return 0;
        });
        return command;
    }

    private static async Task<TrainingResult> TrainWithProgressBar(CliContext context, TrainingInputs inputs, TrainingOptions options, CancellationToken cancellationToken)
    {
        TrainingResult? result = null;
        await context.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                ProgressTask task = progress.AddTask("preparing", maxValue: 1);
                var reporter = new Progress<TrainingProgress>(p =>
                {
                    task.MaxValue = Math.Max(1, p.TotalSteps);
                    task.Value = p.Step;
                    task.Description = p.Message is not null && p.Step == 0
                        ? Markup.Escape(p.Message)
                        : Markup.Escape($"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} lr {p.LearningRate:E2} {p.SamplesPerSecond:F1} samples/s");
                    if (p.Message is not null && p.Step > 0)
                    {
                        context.Console.MarkupLine(Markup.Escape($"step {p.Step}: {p.Message}"));
                    }
                });
                result = await Trainer.RunAsync(inputs, options, reporter, cancellationToken);
            });
        return result!;
    }

    private static void WriteLine(CliContext context, TrainingProgress p)
    {
        if (p.Message is not null)
        {
            context.Output.WriteLine(p.Step == 0 ? p.Message : $"step {p.Step}: {p.Message}");
        }
        else if (p.Step == 1 || p.Step == p.TotalSteps || p.Step % Math.Max(1, p.TotalSteps / 20) == 0)
        {
            context.Output.WriteLine($"step {p.Step}/{p.TotalSteps} epoch {p.Epoch:F2} loss {p.Loss:F4} lr {p.LearningRate:E2} {p.SamplesPerSecond:F1} samples/s, eta {p.Remaining:hh\\:mm\\:ss}");
        }
    }
}
