using WebSsl.Language;
using WebSsl.Language.Engine;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Embedding;
using WebSsl.Multimodal.Projectors;
using WebSsl.Training.Synthesis;
using WebSsl.Vision;
using WebSsl.Vision.Images;
using WebSsl.Vision.Images.Tiling;
using static TorchSharp.torch;

namespace WebSsl.Training.Benchmarks;

/// <summary>What <see cref="TileBenchmark"/> measures.</summary>
public sealed record TileBenchmarkOptions
{
    /// <summary>Tile budget of the tiled layouts (InternVL's default max_dynamic_patch is 12).</summary>
    public int MaxTiles { get; init; } = 12;

    /// <summary>Distinct synthetic A4 pages (150 dpi, 1240 x 1754) encoded for the timings; the median is reported.</summary>
    public int Pages { get; init; } = 3;

    /// <summary>Synthetic images of each kind whose grids <c>auto</c> and the fixed budget choose (no encoding).</summary>
    public int ImagesPerKind { get; init; } = 12;
}

/// <summary>Image tokens of one page read by one encoder resolution, one way.</summary>
public sealed record PageTokens(int Resolution, string Layout, int Views, int Tokens, int? MergedTokens, string? MergeNote, double TextPixels);

/// <summary>The grids <c>auto</c> picks for one kind of image against the fixed budget.</summary>
public sealed record AutoChoice(string Kind, int Images, double FixedTokens, double AutoTokens, double AutoTiles);

/// <summary>Timings of one layout over the benchmark's pages.</summary>
public sealed record PageTiming(string Layout, int Views, int ImageTokens, double EncodeMilliseconds, double FirstTokenMilliseconds, double PrefillMilliseconds)
{
    public double PagesPerSecond => 1000 / EncodeMilliseconds;

    public double MillisecondsPerView => EncodeMilliseconds / Views;
}

public sealed record TileBenchmarkReport(
    string Encoder,
    int Resolution,
    int PageWidth,
    int PageHeight,
    IReadOnlyList<PageTokens> Tokens,
    IReadOnlyList<AutoChoice> Auto,
    PageTiming Single,
    PageTiming Tiled)
{
    /// <summary>Encoder time per view with the page's views batched ÷ per view for a page read as one view: below 1, batching pays.</summary>
    public double PerViewRatio => Tiled.MillisecondsPerView / Single.MillisecondsPerView;
}

/// <summary>
/// Pages read at full resolution, counted and timed: image tokens per A4 page for the published encoder resolutions with
/// and without tiles and 2x2 token merging (computed with the projector's own layout rules), the tokens <c>auto</c> saves
/// on each kind of image, and, for a real encoder and LLM, pages/s encoded and the time to the first token of an
/// answer about a page, tiled and as one view, through the same <see cref="VisionAssistant"/> that serves.
/// </summary>
public static class TileBenchmark
{
    public static readonly int[] Resolutions = [224, 378, 518];

    private const int Patch = 14;

    /// <summary>Size of 10-point text on an A4 page at 150 dpi (the body text of <see cref="PageRenderer"/>'s full pages).</summary>
    private const double TenPointPixels = 10 * 150 / 72.0;

    /// <summary>Tokens per page for each resolution, as one view and tiled; merging shown where the patch grid allows it.</summary>
    public static IReadOnlyList<PageTokens> TokenTable(int width, int height, int maxTiles)
    {
        var rows = new List<PageTokens>();
        var tiling = new TilingOptions { MaxTiles = maxTiles };
        foreach (int resolution in Resolutions)
        {
            int side = resolution / Patch;
            // An odd patch grid (378 / 14 = 27) cannot be cut into 2x2 blocks: merging needs a token grid resize first.
            bool odd = side % 2 == 1;
            string? note = odd ? $"{side}x{side} patches cannot merge 2x2: with --token-grid {side + 1}" : null;
            foreach (ViewLayout layout in new[] { ViewLayout.GlobalOnly, ImageViews.PlanFromSize(width, height, tiling, resolution)!.Value })
            {
                ProjectorConfig plain = new() { InputSize = 1, OutputSize = 1, Tiling = layout.HasTiles ? tiling : null };
                ProjectorConfig merged = plain with { TokenMerge = 2, TokenGrid = odd ? side + 1 : null };
                double scale = layout.HasTiles
                    ? Math.Min((double)layout.Grid.Columns * resolution / width, (double)layout.Grid.Rows * resolution / height)
                    : (double)resolution / Math.Max(width, height);
                rows.Add(new PageTokens(resolution, layout.ToString(), layout.Views, Projector.RowsOf(plain, layout, side * side),
                    Projector.RowsOf(merged, layout, side * side), note, TenPointPixels * scale));
            }
        }
        return rows;
    }

    /// <summary>Mean tokens per image with the fixed budget and with <c>auto</c> (up to the same number of tiles), per kind of synthetic image.</summary>
    public static IReadOnlyList<AutoChoice> AutoTable(int resolution, int maxTiles, int imagesPerKind)
    {
        var fixedTiling = new TilingOptions { MaxTiles = maxTiles };
        var autoTiling = fixedTiling with { Selection = TileSelection.Auto };
        var projector = new ProjectorConfig { InputSize = 1, OutputSize = 1, Tiling = fixedTiling };
        int side = resolution / Patch;
        var rows = new List<AutoChoice>();
        foreach (SynthKind kind in new[] { SynthKind.Bar, SynthKind.Pie, SynthKind.Table, SynthKind.Receipt, SynthKind.Document, SynthKind.Page })
        {
            double fixedTokens = 0, autoTokens = 0, autoTiles = 0;
            for (int i = 0; i < imagesPerKind; i++)
            {
                SyntheticImage image = SyntheticDataset.Render(new SynthOptions { Kind = kind, Seed = 5 }, i);
                using var decoded = ImageLoader.Load(image.Bytes, image.Id, ImageLimits.Default);
                ViewLayout chosen = ImageViews.Plan(decoded, autoTiling, resolution);
                fixedTokens += Projector.RowsOf(projector, ImageViews.Plan(decoded, fixedTiling, resolution), side * side);
                autoTokens += Projector.RowsOf(projector, chosen, side * side);
                autoTiles += chosen.HasTiles ? chosen.Grid.Count : 0;
            }
            rows.Add(new AutoChoice(kind.ToString().ToLowerInvariant(), imagesPerKind, fixedTokens / imagesPerKind, autoTokens / imagesPerKind, autoTiles / imagesPerKind));
        }
        return rows;
    }

    /// <summary>
    /// Times pages through two assistants over the same encoder and LLM: one reading each page as one view, one with
    /// tiles (random projectors of the right shapes: the cost does not depend on the weights). Each page is new to the
    /// embedding cache; one page is asked about first to warm both up.
    /// </summary>
    public static async Task<TileBenchmarkReport> RunAsync(string encoderPath, string llmPath, string workDirectory, TileBenchmarkOptions options, int? threads = null,
        CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(workDirectory);
        var tiling = new TilingOptions { MaxTiles = options.MaxTiles };
        int resolution;
        string name;
        using (VisionEncoder encoder = VisionEncoder.Load(encoderPath, new VisionEncoderOptions { Threads = threads }, cancellationToken))
        using (LanguageModel llm = LanguageModel.Load(llmPath))
        {
            resolution = encoder.Config.ImageSize;
            name = encoder.Name;
            WriteRandomAdapter(Path.Combine(workDirectory, "single"), encoder, llm, tiling: null);
            WriteRandomAdapter(Path.Combine(workDirectory, "tiled"), encoder, llm, tiling);
        }
        List<SyntheticImage> pages = Enumerable.Range(0, options.Pages + 1).Select(i => SyntheticDataset.Render(new SynthOptions { Kind = SynthKind.Page, Seed = 9 }, i)).ToList();
        ViewLayout tiledLayout = ImageViews.PlanFromSize(pages[0].Width, pages[0].Height, tiling, resolution)!.Value;
        int rows = Projector.RowsOf(new ProjectorConfig { InputSize = 1, OutputSize = 1, Tiling = tiling }, tiledLayout, (resolution / Patch) * (resolution / Patch));
        PageTiming single = await TimeAsync(ViewLayout.GlobalOnly.ToString(), Path.Combine(workDirectory, "single"), rows);
        PageTiming tiled = await TimeAsync(tiledLayout.ToString(), Path.Combine(workDirectory, "tiled"), rows);
        return new TileBenchmarkReport(name, resolution, pages[0].Width, pages[0].Height, TokenTable(pages[0].Width, pages[0].Height, options.MaxTiles),
            AutoTable(resolution, options.MaxTiles, options.ImagesPerKind), single, tiled);

        async Task<PageTiming> TimeAsync(string layout, string adapter, int tiledRows)
        {
            await using VisionAssistant assistant = await VisionAssistant.LoadAsync(new AssistantOptions
            {
                EncoderPath = encoderPath,
                LlmPath = llmPath,
                AdapterPath = adapter,
                Threads = threads,
                MaxTokensPerImage = tiledRows,
                Engine = new EngineOptions { MaxSessions = 1, ContextSize = tiledRows + 512, MaxSessionTokens = tiledRows + 512 },
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            var encode = new List<double>();
            var first = new List<double>();
            var prefill = new List<double>();
            int views = 0, tokens = 0;
            for (int i = 0; i < pages.Count; i++)
            {
                using AssistantSession session = assistant.CreateSession();
                AssistantAnswer answer = await session.AnswerAsync(new AssistantQuestion("What is the total?")
                {
                    Images = [new AssistantImage(pages[i].Bytes, pages[i].Id)],
                    Sampling = SamplingOptions.Greedy with { MaxTokens = 1 },
                }, cancellationToken).ConfigureAwait(false);
                if (i == 0)
                {
                    continue; // warm-up: allocator, MKL and llama.cpp buffers
                }
                encode.Add(answer.Metrics.ImageEncodeMilliseconds);
                first.Add(answer.Metrics.FirstTokenMilliseconds);
                prefill.Add(answer.Metrics.PrefillMilliseconds);
                views = answer.Images[0].Views;
                tokens = answer.Metrics.ImageTokens;
            }
            return new PageTiming(layout, views, tokens, Median(encode), Median(first), Median(prefill));
        }
    }

    private static void WriteRandomAdapter(string directory, VisionEncoder encoder, LanguageModel llm, TilingOptions? tiling)
    {
        manual_seed(1);
        var config = new ProjectorConfig { InputSize = encoder.Config.HiddenSize, OutputSize = llm.EmbeddingSize, Tiling = tiling };
        var preprocess = new PreprocessOptions { Mode = PreprocessMode.Pad, Resolution = encoder.Config.ImageSize };
        using var adapter = new Adapter(new AdapterManifest
        {
            Projector = config,
            Encoder = Identities.Of(encoder, FeatureSelection.Default, preprocess),
            Llm = Identities.Of(llm),
        }, new Projector(config));
        adapter.Save(directory);
    }

    private static double Median(List<double> values) => values.Count == 0 ? double.NaN : values.Order().ElementAt(values.Count / 2);
}
