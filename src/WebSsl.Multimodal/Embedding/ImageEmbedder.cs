using System.Diagnostics;
using System.Security.Cryptography;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Language.Prompting;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Projectors;
using WebSsl.Vision;
using WebSsl.Vision.Images;
using WebSsl.Vision.Images.Tiling;
using static TorchSharp.torch;

namespace WebSsl.Multimodal.Embedding;

/// <summary>How an <see cref="ImageEmbedder"/> decodes, batches and caches.</summary>
public sealed record ImageEmbedderOptions
{
    /// <summary>Limits every image is checked against before it is decoded.</summary>
    public ImageLimits ImageLimits { get; init; } = new();

    /// <summary>Memory for cached image embeddings (least recently used evicted first); 0 caches nothing.</summary>
    public long CacheBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Encoder forward passes that may run at once (each may hold several images).</summary>
    public int EncoderParallelism { get; init; } = 1;

    /// <summary>How long the encoder waits for more images to batch with the first one.</summary>
    public TimeSpan BatchWindow { get; init; } = TimeSpan.FromMilliseconds(10);

    public int MaxBatch { get; init; } = 8;

    /// <summary>Most embedding rows one image may become (global view, tiles and separators); larger layouts are refused before encoding.</summary>
    public int MaxTokensPerImage { get; init; } = 8192;
}

/// <summary>An image's embedding and what was done to get it.</summary>
public sealed record EmbeddedImage(ImageEmbedding Embedding, int OriginalWidth, int OriginalHeight, int Resolution, PreprocessMode Mode, TimeSpan Elapsed, bool Cached)
{
    /// <summary>The views the image was read as (the global view alone without tiling).</summary>
    public ViewLayout Layout { get; init; } = ViewLayout.GlobalOnly;
}

/// <summary>An image whose views would take more embedding rows than allowed: refused before it is encoded.</summary>
public sealed class ImageTooLargeForBudgetException(string message) : WebSslException(ProblemKind.BadInput, "image-token-budget", message);

/// <summary>
/// The one path from an image to the LLM's input embeddings (LLaVA's <c>encode_images</c>), used by serving, training's
/// validation, evaluation and tests: check the bytes against the limits, look the content up in the cache, decode
/// (within the shared decode gate), turn the picture into encoder inputs, encode them (batched with images arriving at
/// the same time), select the trained layer, project, and lay the views out for the LLM. Without tiling an image is one
/// encoder input; with the adapter's tiling scheme it is a global view and tiles (<see cref="ImageViews"/>), laid out by
/// the projector with its learned separators (<see cref="Projector.Arrange"/>), as in training.
/// </summary>
public sealed class ImageEmbedder : IAsyncDisposable
{
    private readonly Lazy<EncoderBatcher> _batcher;
    private readonly ImageDecodeGate _decodes;

    /// <summary>
    /// An embedder for <paramref name="projector"/> over <paramref name="encoder"/>, preprocessing and selecting features
    /// as <paramref name="identity"/> records (the encoder is checked against it). Images are decoded through
    /// <paramref name="decodes"/> (default: a gate of its own).
    /// </summary>
    public ImageEmbedder(VisionEncoder encoder, Projector projector, EncoderIdentity identity, ImageEmbedderOptions? options = null, ImageDecodeGate? decodes = null,
        string? source = null)
    {
        Encoder = encoder;
        Projector = projector;
        Options = options ?? new ImageEmbedderOptions();
        Features = new FeatureSelection { Layer = identity.FeatureLayer, KeepCls = identity.KeepCls };
        Preprocess = new PreprocessOptions
        {
            Mode = Enum.Parse<PreprocessMode>(identity.Preprocess, ignoreCase: true),
            Resolution = identity.Resolution,
        };
        List<string> differences = Identities.EncoderDifferences(identity, Identities.Of(encoder, Features, Preprocess));
        if (differences.Count > 0)
        {
            throw new AdapterMismatchException(source ?? "adapter", differences);
        }
        TokensPerImage = projector.OutputTokens(identity.TokenGrid * identity.TokenGrid + (identity.KeepCls ? 1 : 0));
        Cache = new EmbeddingCache(Options.CacheBytes);
        _decodes = decodes ?? new ImageDecodeGate(new ImageDecodeOptions());
        _batcher = new Lazy<EncoderBatcher>(() => new EncoderBatcher(encoder, Features, Options.EncoderParallelism, Options.BatchWindow, Options.MaxBatch));
    }

    /// <summary>The embedder an adapter was trained for: its projector over <paramref name="encoder"/>, checked against the adapter's record of it.</summary>
    public static ImageEmbedder ForAdapter(VisionEncoder encoder, Adapter adapter, ImageEmbedderOptions? options = null, ImageDecodeGate? decodes = null) =>
        new(encoder, adapter.Projector, adapter.Manifest.Encoder, options, decodes, adapter.Directory ?? "adapter");

    public VisionEncoder Encoder { get; }

    public Projector Projector { get; }

    public ImageEmbedderOptions Options { get; }

    public FeatureSelection Features { get; }

    /// <summary>The preprocessing the projector was trained with.</summary>
    public PreprocessOptions Preprocess { get; }

    /// <summary>Image tokens one encoder input (one view) becomes at the trained resolution.</summary>
    public int TokensPerImage { get; }

    /// <summary>How images are cut into views (the adapter's scheme); null: one view per image.</summary>
    public TilingOptions? Tiling => Projector.Config.Tiling;

    /// <summary>Embedding rows an image laid out as <paramref name="layout"/> becomes at <paramref name="resolution"/> (default: the trained one).</summary>
    public int RowsFor(ViewLayout layout, int? resolution = null)
    {
        int side = (resolution ?? Preprocess.Resolution ?? Encoder.Config.ImageSize) / Encoder.Config.PatchSize;
        return Projector.Rows(layout, side * side + (Features.KeepCls ? 1 : 0));
    }

    public EmbeddingCache Cache { get; }

    /// <summary>Encoder forward passes so far (several images may share one).</summary>
    public long EncoderPasses => _batcher.IsValueCreated ? _batcher.Value.Passes : 0;

    /// <summary>Encoder inputs processed so far by the batched path (cache hits not counted).</summary>
    public long EncodedImages => _batcher.IsValueCreated ? _batcher.Value.Images : 0;

    /// <summary>
    /// Preprocessing for one request: the trained one unless the caller chooses another mode, or another resolution —
    /// which only a projector with a token grid accepts (it brings every resolution to the trained token count).
    /// </summary>
    public PreprocessOptions OptionsFor(PreprocessMode? mode = null, int? resolution = null, ImageEnhancement enhancement = ImageEnhancement.None)
    {
        if (resolution is int r && r != Preprocess.Resolution)
        {
            if (Projector.Config.TokenGrid is null)
            {
                throw new BadInputException(
                    $"this adapter was trained at {Preprocess.Resolution}px without a token grid; another resolution would change the number of image tokens the LLM sees. " +
                    "Train with --token-grid to allow it.");
            }
            _ = Encoder.Preprocessor.OutputSize(new PreprocessOptions { Resolution = r }); // a multiple of the patch size
        }
        return Preprocess with { Mode = mode ?? Preprocess.Mode, Resolution = resolution ?? Preprocess.Resolution, Enhancement = enhancement };
    }

    /// <summary>
    /// The embedding of encoded image bytes: from the cache (keyed by content and preprocessing; the cache belongs to this
    /// embedder, so to this encoder and projector), or decoded within the gate and its inputs encoded together, in a batch
    /// with other images arriving at the same time.
    /// </summary>
    /// <param name="tokenBudget">Most rows the caller can take for this image (e.g. what is left of the context); the
    /// configured <see cref="ImageEmbedderOptions.MaxTokensPerImage"/> applies as well.</param>
    /// <exception cref="ImageTooLargeForBudgetException">before any encoding, with the layout's numbers.</exception>
    public async Task<EmbeddedImage> EmbedAsync(ReadOnlyMemory<byte> bytes, string name, PreprocessOptions? preprocess = null, int? tokenBudget = null,
        CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        preprocess ??= Preprocess;
        ImageHeader header = ImageLoader.Inspect(bytes.Span, name, Options.ImageLimits);
        int resolution = preprocess.Resolution ?? Preprocess.Resolution ?? Encoder.Config.ImageSize;
        string key = Convert.ToHexStringLower(SHA256.HashData(bytes.Span)) + $"|{preprocess.Mode}|{resolution}|{preprocess.Enhancement}";
        if (Cache.TryGet(key, out CachedImage hit))
        {
            CheckBudget(name, header, hit.Layout, resolution, tokenBudget);
            return Result(hit.Embedding, hit.Layout, cached: true);
        }
        if (ImageViews.PlanFromSize(header.Width, header.Height, Tiling, resolution) is ViewLayout known)
        {
            CheckBudget(name, header, known, resolution, tokenBudget); // before decoding anything
        }
        (IReadOnlyList<Tensor> inputs, ViewLayout layout) = await _decodes.RunAsync(name, () =>
        {
            using Image<Rgb24> decoded = ImageLoader.Load(bytes.Span, name, Options.ImageLimits);
            ViewLayout planned = ImageViews.Plan(decoded, Tiling, resolution);
            CheckBudget(name, header, planned, resolution, tokenBudget); // auto: decoded and measured, still not encoded
            return (ImageViews.Pixels(decoded, planned, Encoder.Preprocessor, preprocess), planned);
        }, cancellationToken).ConfigureAwait(false);
        Task<Tensor>[] encoding = inputs.Select(input => _batcher.Value.EncodeAsync(input, cancellationToken)).ToArray();
        try
        {
            Tensor[] features = await Task.WhenAll(encoding).ConfigureAwait(false);
            ImageEmbedding embedding = Project(features, layout);
            Cache.Add(key, new CachedImage(embedding, layout));
            return Result(embedding, layout, cached: false);
        }
        finally
        {
            DisposeAll(inputs);
            DisposeAll(encoding.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result)); // also when another input failed
        }

        EmbeddedImage Result(ImageEmbedding embedding, ViewLayout layout, bool cached) =>
            new(embedding, header.Width, header.Height, resolution, preprocess.Mode, clock.Elapsed, cached) { Layout = layout };
    }

    private void CheckBudget(string name, ImageHeader header, ViewLayout layout, int resolution, int? tokenBudget)
    {
        int rows = RowsFor(layout, resolution);
        int limit = Math.Min(Options.MaxTokensPerImage, tokenBudget ?? int.MaxValue);
        if (rows > limit)
        {
            string where = tokenBudget is int budget && budget < Options.MaxTokensPerImage ? $"{budget} positions are left in the context" : $"at most {Options.MaxTokensPerImage} are allowed per image";
            throw new ImageTooLargeForBudgetException(
                $"{name}: {header.Width}x{header.Height} read as {layout} ({layout.Views} views of {resolution}px) needs {rows} image tokens; {where}. " +
                "Ask about fewer or smaller images, or use an adapter with fewer tiles or token merging.");
        }
    }

    /// <summary>The embedding of a decoded image, encoded at once (no cache, no batching): for training's validation and tests.</summary>
    public ImageEmbedding Embed(Image<Rgb24> image, PreprocessOptions? preprocess = null, CancellationToken cancellationToken = default)
    {
        using var scope = NewDisposeScope(); // the per-input views of the features; nothing but floats leaves
        preprocess ??= Preprocess;
        ViewLayout layout = ImageViews.Plan(image, Tiling, preprocess.Resolution ?? Preprocess.Resolution ?? Encoder.Config.ImageSize);
        IReadOnlyList<Tensor> inputs = ImageViews.Pixels(image, layout, Encoder.Preprocessor, preprocess);
        try
        {
            using Tensor features = Encoder.EncodeFeatures(inputs, Features, cancellationToken);
            return Project(Enumerable.Range(0, inputs.Count).Select(i => features[i]).ToList(), layout);
        }
        finally
        {
            DisposeAll(inputs);
        }
    }

    /// <summary>Projects the encoder features [tokens, hidden] of each view and lays them out as the projector was trained to.</summary>
    private ImageEmbedding Project(IReadOnlyList<Tensor> features, ViewLayout layout)
    {
        using var scope = NewDisposeScope();
        using var inference = no_grad();
        Tensor embedded = Projector.Arrange(Projector.forward(stack(features.ToArray())), layout).contiguous();
        return new ImageEmbedding(embedded.data<float>().ToArray(), (int)embedded.shape[1]);
    }

    private static void DisposeAll(IEnumerable<Tensor> tensors)
    {
        foreach (Tensor t in tensors)
        {
            t.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_batcher.IsValueCreated)
        {
            await _batcher.Value.DisposeAsync().ConfigureAwait(false);
        }
    }
}
