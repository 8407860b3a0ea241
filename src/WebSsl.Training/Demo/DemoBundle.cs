using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using WebSsl.Language;
using WebSsl.Language.Engine;
using WebSsl.Language.Fixtures;
using WebSsl.Multimodal.Assistant;
using WebSsl.Training.Evaluation;
using WebSsl.Training.Runs;
using WebSsl.Training.Synthesis;
using WebSsl.Vision;
using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Images;

namespace WebSsl.Training.Demo;

/// <summary>
/// How the demo assistant is built: the recipe of the bundle shipped in the repository (built once, offline, in about an
/// hour on a 2-core CPU). Every number goes into the bundle's manifest, so a bundle built from another recipe is never
/// taken for this one.
/// </summary>
public sealed record DemoOptions
{
    public int TrainImages { get; init; } = 12000;
    public int TestImages { get; init; } = 300;
    public int Steps { get; init; } = 3000;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 2e-3;
    public int Seed { get; init; } = 1;

    /// <summary>Image side in pixels (a multiple of the patch size 14); the synthetic images are drawn at this size.</summary>
    public int ImageSize { get; init; } = 112;

    /// <summary>The encoder: Web-DINO architecture (Dinov2Model with SwiGLU and layer scale), HF layout.</summary>
    public int EncoderWidth { get; init; } = 128;
    public int EncoderLayers { get; init; } = 4;
    public int EncoderHeads { get; init; } = 2;

    public int LlmWidth { get; init; } = 128;
    public int LlmBlocks { get; init; } = 3;
    public int LlmHeads { get; init; } = 4;
    public int LlmFeedForward { get; init; } = 384;

    /// <summary>Resize the encoder's patch grid to this many tokens per side before the LLM (null: all patches).</summary>
    public int? TokenGrid { get; init; }
}

/// <summary>
/// Held-out scores of the demo assistant, measured by the evaluation harness when it was built: on every held-out
/// question, and on the fixed sample shipped with it (<see cref="DemoBundle.SamplesFile"/>) that the guard test asks again.
/// </summary>
public sealed record DemoScores(
    [property: JsonPropertyName("overall")] double Overall,
    [property: JsonPropertyName("blind")] double Blind,
    [property: JsonPropertyName("questions")] int Questions,
    [property: JsonPropertyName("categories")] IReadOnlyDictionary<string, double> Categories,
    [property: JsonPropertyName("blind_categories")] IReadOnlyDictionary<string, double> BlindCategories)
{
    [JsonPropertyName("sample")] public double Sample { get; init; }
    [JsonPropertyName("sample_questions")] public int SampleQuestions { get; init; }
}

/// <summary>Why a folder holds no demo bundle this program may serve.</summary>
public sealed class DemoBundleException(string message) : WebSslException(ProblemKind.InvalidModel, "demo-bundle", message);

/// <summary>
/// A held-out question offered as an example: the image (relative to samples/), the question, the synthetic ground
/// truth, and what the bundle answered when it was built (with its score under the relaxed metric).
/// </summary>
public sealed record DemoExample(
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("question")] string Question,
    [property: JsonPropertyName("answer")] string Answer,
    [property: JsonPropertyName("category")] string Category,
    [property: JsonPropertyName("build_answer")] string BuildAnswer,
    [property: JsonPropertyName("build_score")] double BuildScore);

/// <summary>A step of the build, for progress displays.</summary>
public sealed record DemoProgress(string Stage, string Detail, double Fraction);

/// <summary>
/// The offline demo assistant: a small encoder in the Web-DINO architecture (HF layout), a small llama-architecture LLM
/// written as GGUF, and a projector, all trained from scratch together (<see cref="TuneMode.All"/>) on synthetic charts
/// and documents from <see cref="SyntheticDataset"/>, then scored with <see cref="Evaluator"/> on held-out images, with
/// and without the image. Deterministic for a seed; cached in its folder and rebuilt only when asked or when the
/// options or the bundle format change. It is a demonstration that the whole pipeline really learns, not a general
/// model: it knows only these synthetic charts.
/// </summary>
public sealed partial record DemoBundle
{
    /// <summary>Bumped whenever what a build produces changes, so a bundle of another format is never served as this one.</summary>
    public const int FormatVersion = 2;

    /// <summary>Steps between validation passes of a build: the accuracy curve in the training log.</summary>
    public const int ValidateEvery = 500;

    public const string ManifestFile = "bundle.json";

    /// <summary>The folder of the bundle shipped with the repository (adapters/), and next to the webssl program.</summary>
    public const string ShippedFolder = "demo-synthetic-charts";

    /// <summary>A fixed sample of held-out questions (LLaVA JSON with images/ beside it), answered again by the guard test.</summary>
    public const string SamplesFile = "samples/questions.json";

    /// <summary>A few of those, one per kind of question, offered by the browser app as examples (with their ground truth).</summary>
    public const string ExamplesFile = "samples/examples.json";

    /// <summary>How many held-out questions the sample keeps (about).</summary>
    public const int SampleSize = 100;
    public const string Label = "Demo model trained on synthetic charts and documents";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    [JsonPropertyName("format")] public int Format { get; init; } = FormatVersion;
    [JsonPropertyName("label")] public string Description { get; init; } = Label;
    [JsonPropertyName("options")] public required DemoOptions Options { get; init; }
    [JsonPropertyName("encoder")] public required string EncoderPath { get; init; }
    [JsonPropertyName("llm")] public required string LlmPath { get; init; }
    [JsonPropertyName("adapter")] public required string AdapterPath { get; init; }
    [JsonPropertyName("scores")] public required DemoScores Scores { get; init; }
    [JsonPropertyName("build_seconds")] public required double BuildSeconds { get; init; }
    [JsonPropertyName("train_seconds")] public required double TrainSeconds { get; init; }
    [JsonPropertyName("created_utc")] public DateTime CreatedUtc { get; init; } = DateTime.UtcNow;

    /// <summary>The source commit the build ran from (git rev-parse HEAD, "+dirty" with uncommitted changes), or null outside a checkout.</summary>
    [JsonPropertyName("commit")] public string? Commit { get; init; }

    [JsonIgnore] public string Directory { get; private set; } = "";

    /// <summary>The bundle in <paramref name="directory"/> if it is complete, of this format and built with these options; otherwise null.</summary>
    public static DemoBundle? TryOpen(string directory, DemoOptions? options = null)
    {
        try
        {
            return Open(directory, options);
        }
        catch (DemoBundleException)
        {
            return null;
        }
    }

    /// <summary>
    /// The bundle in <paramref name="directory"/>; a bundle of another format, of another recipe than
    /// <paramref name="options"/> (when given) or with parts missing is refused, naming what differs, never served stale.
    /// </summary>
    public static DemoBundle Open(string directory, DemoOptions? options = null)
    {
        string path = Path.Combine(directory, ManifestFile);
        if (!File.Exists(path))
        {
            throw new DemoBundleException($"{directory} holds no demo bundle ({ManifestFile} is missing).");
        }
        DemoBundle? bundle;
        try
        {
            bundle = JsonSerializer.Deserialize<DemoBundle>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new DemoBundleException($"{path} is damaged ({e.Message}); rebuild it with webssl demo --rebuild.");
        }
        if (bundle is null || bundle.Format != FormatVersion)
        {
            throw new DemoBundleException($"{path} is of bundle format {bundle?.Format}, this program reads format {FormatVersion}; rebuild it with webssl demo --rebuild.");
        }
        if (options is not null && bundle.Options != options)
        {
            throw new DemoBundleException($"{path} was built from another recipe ({Differences(bundle.Options, options)}); rebuild it with webssl demo --rebuild.");
        }
        bundle.Directory = Path.GetFullPath(directory);
        string[] missing = new[] { bundle.EncoderPath, bundle.LlmPath, Path.Combine(bundle.AdapterPath, "adapter.json") }
            .Where(p => !File.Exists(bundle.Resolve(p)) && !System.IO.Directory.Exists(bundle.Resolve(p))).ToArray();
        if (missing.Length > 0)
        {
            throw new DemoBundleException($"{directory}: the bundle is incomplete ({string.Join(", ", missing)} missing); rebuild it with webssl demo --rebuild.");
        }
        return bundle;
    }

    /// <summary>"steps 1200 (this program: 5000), ..." for every recipe setting that differs.</summary>
    private static string Differences(DemoOptions built, DemoOptions wanted) => string.Join(", ",
        typeof(DemoOptions).GetProperties().Where(p => !Equals(p.GetValue(built), p.GetValue(wanted)))
            .Select(p => $"{p.Name} {p.GetValue(built) ?? "none"} (this program: {p.GetValue(wanted) ?? "none"})"));

    /// <summary>Paths in the manifest are relative to the bundle folder, so a bundle can be moved.</summary>
    public string Resolve(string relative) => Path.GetFullPath(Path.Combine(Directory, relative));

    public AssistantOptions AssistantOptions(int? threads = null) => new()
    {
        EncoderPath = Resolve(EncoderPath),
        LlmPath = Resolve(LlmPath),
        AdapterPath = Resolve(AdapterPath),
        Threads = threads,
    };

    /// <summary>
    /// Scores the bundle on <paramref name="dataset"/> through the serving path (<see cref="VisionAssistant"/>, greedy
    /// answers of at most 8 tokens), with the image or blind: how the build measures it, and how the guard test measures
    /// it again.
    /// </summary>
    public async Task<EvalReport> EvaluateAsync(EvalDataset dataset, bool noImage, CancellationToken cancellationToken = default)
    {
        await using VisionAssistant assistant = await VisionAssistant.LoadAsync(AssistantOptions() with
        {
            Engine = new EngineOptions { MaxSessions = 2, MaxQueue = 2, ContextSize = 2048, MaxSessionTokens = 1024 },
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await Evaluator.RunAsync(assistant, dataset, new EvalOptions { MaxTokens = 8, Parallel = 2, NoImage = noImage }, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens the cached bundle, or builds it (minutes) when there is none, it is outdated, or <paramref name="rebuild"/>.</summary>
    public static async Task<DemoBundle> OpenOrBuildAsync(string directory, DemoOptions? options = null, bool rebuild = false,
        IProgress<DemoProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new DemoOptions();
        if (!rebuild && TryOpen(directory, options) is DemoBundle cached)
        {
            return cached;
        }
        return await BuildAsync(directory, options, progress, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<DemoBundle> BuildAsync(string directory, DemoOptions options, IProgress<DemoProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(directory);
        File.Delete(Path.Combine(directory, ManifestFile)); // from here until the end, the folder holds no usable bundle
        string? commit = SourceCommit();
        string Sub(string name) => Path.Combine(directory, name);

        // ---- data: synthetic charts and documents, training and held-out test sets from different seeds
        progress?.Report(new DemoProgress("data", $"rendering {options.TrainImages} + {options.TestImages} synthetic images", 0));
        // Training: one conversation per image, all its questions plus a full description last (dense targets, one encoder
        // pass per image); testing: one record per question, as the evaluation asks them.
        var trainData = new SynthOptions
        {
            Profile = SynthProfile.Demo, Count = options.TrainImages, Seed = options.Seed * 1000 + 1, Width = options.ImageSize, Height = options.ImageSize,
            Conversations = true, Captions = true,
        };
        var testData = new SynthOptions { Profile = SynthProfile.Demo, Count = options.TestImages, Seed = options.Seed * 1000 + 2, Width = options.ImageSize, Height = options.ImageSize };
        SynthSummary train = await Task.Run(() => SyntheticDataset.Write(trainData, Sub("work/data/train"), null, cancellationToken), cancellationToken).ConfigureAwait(false);
        SynthSummary test = await Task.Run(() => SyntheticDataset.Write(testData, Sub("work/data/test"), null, cancellationToken), cancellationToken).ConfigureAwait(false);

        // ---- untrained models in their real formats: an HF Web-DINO folder and a llama GGUF whose vocabulary has the data's words
        progress?.Report(new DemoProgress("models", "writing the untrained encoder (HF layout) and LLM (GGUF)", 0));
        string initialEncoder = Sub("work/init/encoder");
        var encoderConfig = CheckpointGenerator.Dino(options.EncoderWidth, options.EncoderLayers, options.EncoderHeads, options.ImageSize);
        CheckpointGenerator.Write(initialEncoder, encoderConfig, new GeneratorOptions
        {
            ForTraining = true,
            Seed = options.Seed,
            Preprocessor = PreprocessorConfig.DefaultFor(encoderConfig.ImageSize),
        });
        string initialLlm = Sub("work/init/llm.gguf");
        var shape = new LlamaShape
        {
            Architecture = "llama",
            EmbeddingLength = options.LlmWidth,
            BlockCount = options.LlmBlocks,
            HeadCount = options.LlmHeads,
            HeadCountKv = options.LlmHeads,
            FeedForwardLength = options.LlmFeedForward,
            ContextLength = 1024,
            TokenEmbeddingStd = 0.02,
            OutputWeightStd = 0.02,
            Words = Words(train.DataFile),
        };
        TinyLlamaBuilder.Build(shape, new Random(options.Seed), successor: null)
            .Add("general.name", "webssl-demo-llm")
            .Write(initialLlm);

        // ---- everything trained together, from scratch
        string adapter = Sub("adapter");
        var trainClock = Stopwatch.StartNew();
        using (VisionEncoder encoder = VisionEncoder.Load(initialEncoder))
        using (LanguageModel llm = LanguageModel.Load(initialLlm))
        {
            await Trainer.RunAsync(new TrainingInputs
            {
                DataFile = train.DataFile,
                OutputDirectory = adapter,
                Encoder = encoder,
                Llm = llm,
            }, new TrainingOptions
            {
                MaxSteps = options.Steps,
                BatchSize = options.BatchSize,
                LearningRate = options.LearningRate,
                WarmupRatio = 0.05,
                MaxGradNorm = 1.0,
                Seed = options.Seed,
                TokenGrid = options.TokenGrid,
                // Checkpoints make a killed build continue where it stopped (the data and initial weights are rendered again,
                // identically); validation every few hundred steps is the build's accuracy curve.
                CheckpointEvery = Math.Max(50, options.Steps / 20),
                ValidateEvery = Math.Min(options.Steps, ValidateEvery),
                ValidationFraction = 0.005,
                ValidationMax = 32,
                GenerationMaxTokens = 8,
                Resume = true,
                Tune = TuneMode.All,
            }, new SynchronousProgress<TrainingProgress>(p => progress?.Report(new DemoProgress("training",
                p.Message ?? $"step {p.Step}/{p.TotalSteps}, loss {p.Loss:F3}, {p.SamplesPerSecond:F1} samples/s, {p.Remaining:mm\\:ss} left",
                p.TotalSteps == 0 ? 0 : (double)p.Step / p.TotalSteps))), cancellationToken).ConfigureAwait(false);
        }
        double trainSeconds = trainClock.Elapsed.TotalSeconds;
        foreach (string scratch in new[] { "checkpoints", "feature-cache" })
        {
            // The bundle is final: what remains is what is shipped (work/ keeps the data and initial weights for a rebuild).
            if (System.IO.Directory.Exists(Path.Combine(adapter, scratch)))
            {
                System.IO.Directory.Delete(Path.Combine(adapter, scratch), recursive: true);
            }
        }

        // ---- measured on held-out images: with the image, and blind
        var bundle = new DemoBundle
        {
            Options = options,
            EncoderPath = Path.Combine("adapter", Trainer.TunedEncoderFolder),
            LlmPath = Path.Combine("adapter", Trainer.TunedLlmFile),
            AdapterPath = "adapter",
            Scores = new DemoScores(0, 0, 0, new Dictionary<string, double>(), new Dictionary<string, double>()),
            BuildSeconds = 0,
            TrainSeconds = trainSeconds,
        };
        bundle.Directory = directory;
        progress?.Report(new DemoProgress("evaluation", $"scoring {test.Questions} held-out questions, with and without the image", 0));
        EvalDataset dataset = EvalDataset.Read(test.DataFile);
        EvalReport seeing = await bundle.EvaluateAsync(dataset, noImage: false, cancellationToken).ConfigureAwait(false);
        EvalReport blind = await bundle.EvaluateAsync(dataset, noImage: true, cancellationToken).ConfigureAwait(false);
        seeing.Write(Sub("eval"));
        blind.Write(Sub("eval-blind"));
        IReadOnlySet<string> sampled = WriteSamples(test.DataFile, directory, seeing);
        bundle = bundle with
        {
            Scores = new DemoScores(seeing.Overall, blind.Overall, seeing.Samples,
                seeing.Categories.ToDictionary(c => c.Key, c => c.Value.Score), blind.Categories.ToDictionary(c => c.Key, c => c.Value.Score))
            {
                Sample = seeing.Predictions.Where(p => sampled.Contains(p.Id)).Average(p => p.Score),
                SampleQuestions = sampled.Count,
            },
            BuildSeconds = clock.Elapsed.TotalSeconds,
            Commit = commit,
        };
        bundle.Directory = directory;
        string manifest = Path.Combine(directory, ManifestFile);
        File.WriteAllText(manifest + ".partial", JsonSerializer.Serialize(bundle, Json));
        File.Move(manifest + ".partial", manifest, overwrite: true);
        return bundle;
    }

    /// <summary>
    /// Copies every k-th held-out question (about <see cref="SampleSize"/>, so every category in proportion) with its image
    /// into samples/, and picks one of each category as the browser app's examples, with the answer the build gave.
    /// </summary>
    private static IReadOnlySet<string> WriteSamples(string testDataFile, string directory, EvalReport seeing)
    {
        string testFolder = Path.GetDirectoryName(testDataFile)!;
        string samples = Path.Combine(directory, Path.GetDirectoryName(SamplesFile)!);
        if (System.IO.Directory.Exists(samples))
        {
            System.IO.Directory.Delete(samples, recursive: true);
        }
        System.IO.Directory.CreateDirectory(Path.Combine(samples, "images"));
        var records = JsonNode.Parse(File.ReadAllText(testDataFile))!.AsArray().Select(r => r!.AsObject()).ToList();
        int every = Math.Max(1, records.Count / SampleSize);
        var kept = records.Where((_, i) => i % every == 0).Take(SampleSize).ToList();
        foreach (string image in kept.Select(r => r["image"]!.GetValue<string>()).Distinct(StringComparer.Ordinal))
        {
            File.Copy(Path.Combine(testFolder, image), Path.Combine(samples, image), overwrite: true);
        }
        File.WriteAllText(Path.Combine(directory, SamplesFile), new JsonArray(kept.Select(r => r.DeepClone()).ToArray()).ToJsonString(Json));

        var predictions = seeing.Predictions.ToDictionary(p => p.Id, StringComparer.Ordinal);
        var examples = kept.GroupBy(r => r["category"]!.GetValue<string>(), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.First())
            .Select(r => new DemoExample(
                r["image"]!.GetValue<string>(),
                r["conversations"]![0]!["value"]!.GetValue<string>().Replace("<image>", "", StringComparison.Ordinal).Trim(),
                r["conversations"]![1]!["value"]!.GetValue<string>(),
                r["category"]!.GetValue<string>(),
                predictions.TryGetValue(r["id"]!.GetValue<string>(), out SamplePrediction? p) ? p.Prediction : "",
                p?.Score ?? 0))
            .ToList();
        File.WriteAllText(Path.Combine(directory, ExamplesFile), JsonSerializer.Serialize(examples, Json));
        return kept.Select(r => r["id"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>git rev-parse HEAD of the current folder's checkout, "+dirty" when it has uncommitted changes; null when there is none.</summary>
    private static string? SourceCommit()
    {
        string? Git(string arguments)
        {
            try
            {
                using var git = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
                if (git is null)
                {
                    return null;
                }
                string output = git.StandardOutput.ReadToEnd().Trim();
                git.WaitForExit();
                return git.ExitCode == 0 ? output : null;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return null; // no git on this machine
            }
        }
        string? head = Git("rev-parse HEAD");
        return head is null ? null : Git("status --porcelain --untracked-files=no") is { Length: > 0 } ? head + "+dirty" : head;
    }

    /// <summary>The distinct words of the training questions and answers: they become whole tokens of the demo LLM.</summary>
    private static List<string> Words(string dataFile)
    {
        using JsonDocument data = JsonDocument.Parse(File.ReadAllBytes(dataFile));
        var words = new SortedSet<string>(StringComparer.Ordinal);
        foreach (JsonElement record in data.RootElement.EnumerateArray())
        {
            foreach (JsonElement turn in record.GetProperty("conversations").EnumerateArray())
            {
                foreach (Match word in Word().Matches(turn.GetProperty("value").GetString() ?? ""))
                {
                    words.Add(word.Value);
                }
            }
        }
        return [.. words];
    }

    [GeneratedRegex("[A-Za-z]{2,}")]
    private static partial Regex Word();
}
