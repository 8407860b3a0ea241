using System.Diagnostics;
using System.Security.Cryptography;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Language.Prompting;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Projectors;
using WebSsl.Vision;
using WebSsl.Vision.Images;
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
}

/// <summary>An image's embedding and what was done to get it.</summary>
public sealed record EmbeddedImage(ImageEmbedding Embedding, int OriginalWidth, int OriginalHeight, int Resolution, PreprocessMode Mode, TimeSpan Elapsed, bool Cached);

/// <summary>
/// The one path from an image to the LLM's input embeddings (LLaVA's <c>encode_images</c>), used by serving, training's
/// validation, evaluation and tests: check the bytes against the limits, look the content up in the cache, decode
/// (within the shared decode gate), turn the picture into encoder inputs, encode them (batched with images arriving at
/// the same time), select the trained layer, project, and concatenate the rows of every input in order. One image is
/// one encoder input today; tiles and document pages become several in <see cref="EncoderInputs"/>, nowhere else.
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

    /// <summary>Image tokens one encoder input becomes.</summary>
    public int TokensPerImage { get; }

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
    public async Task<EmbeddedImage> EmbedAsync(ReadOnlyMemory<byte> bytes, string name, PreprocessOptions? preprocess = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        preprocess ??= Preprocess;
        ImageHeader header = ImageLoader.Inspect(bytes.Span, name, Options.ImageLimits);
        int resolution = preprocess.Resolution ?? Preprocess.Resolution ?? Encoder.Config.ImageSize;
        string key = Convert.ToHexStringLower(SHA256.HashData(bytes.Span)) + $"|{preprocess.Mode}|{resolution}|{preprocess.Enhancement}";
        EmbeddedImage Result(ImageEmbedding embedding, bool cached) => new(embedding, header.Width, header.Height, resolution, preprocess.Mode, clock.Elapsed, cached);
        if (Cache.TryGet(key, out ImageEmbedding hit))
        {
            return Result(hit, cached: true);
        }
        IReadOnlyList<Tensor> inputs = await _decodes.RunAsync(name, () =>
        {
            using Image<Rgb24> decoded = ImageLoader.Load(bytes.Span, name, Options.ImageLimits);
            return EncoderInputs(decoded, preprocess);
        }, cancellationToken).ConfigureAwait(false);
        Task<Tensor>[] encoding = inputs.Select(input => _batcher.Value.EncodeAsync(input, cancellationToken)).ToArray();
        try
        {
            Tensor[] features = await Task.WhenAll(encoding).ConfigureAwait(false);
            ImageEmbedding embedding = Project(features);
            Cache.Add(key, embedding);
            return Result(embedding, cached: false);
        }
        finally
        {
            DisposeAll(inputs);
            DisposeAll(encoding.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result)); // also when another input failed
        }
    }

    /// <summary>The embedding of a decoded image, encoded at once (no cache, no batching): for training's validation and tests.</summary>
    public ImageEmbedding Embed(Image<Rgb24> image, PreprocessOptions? preprocess = null, CancellationToken cancellationToken = default)
    {
        using var scope = NewDisposeScope(); // the per-input views of the features; nothing but floats leaves
        IReadOnlyList<Tensor> inputs = EncoderInputs(image, preprocess ?? Preprocess);
        try
        {
            using Tensor features = Encoder.EncodeFeatures(inputs, Features, cancellationToken);
            return Project(Enumerable.Range(0, inputs.Count).Select(i => features[i]).ToList());
        }
        finally
        {
            DisposeAll(inputs);
        }
    }

    /// <summary>
    /// The encoder inputs (pixel_values [3, H, W], in the order their rows reach the LLM) that one picture becomes: the
    /// whole image, preprocessed as trained. The one place where an image could become several views.
    /// </summary>
    private IReadOnlyList<Tensor> EncoderInputs(Image<Rgb24> image, PreprocessOptions preprocess) => [Encoder.Preprocessor.ToPixelValues(image, preprocess)];

    /// <summary>Projects the encoder features [tokens, hidden] of each input and concatenates their rows.</summary>
    private ImageEmbedding Project(IReadOnlyList<Tensor> features)
    {
        using var scope = NewDisposeScope();
        using var inference = no_grad();
        Tensor embedded = cat(features.Select(f => Projector.forward(f.unsqueeze(0))[0]).ToArray()).contiguous();
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
