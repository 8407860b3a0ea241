using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;
using TorchSharp;

namespace WebSsl.Vision.Images;

/// <summary>How an image's aspect ratio meets the encoder's square input.</summary>
public enum PreprocessMode
{
    /// <summary>transformers' behaviour: resize the shortest edge, then center-crop (edges of wide charts are cut).</summary>
    Crop,

    /// <summary>Letterbox to a square with the mean color (as LLaVA does), then resize: nothing is cut away.</summary>
    Pad,

    /// <summary>Resize straight to the target size, distorting the aspect ratio.</summary>
    Stretch,
}

/// <summary>Per-call choices; the defaults reproduce transformers' preprocessing of the checkpoint.</summary>
public sealed record PreprocessOptions
{
    public PreprocessMode Mode { get; init; } = PreprocessMode.Crop;

    /// <summary>Square side to use instead of the checkpoint's; must be a multiple of the patch size.</summary>
    public int? Resolution { get; init; }

    public ImageEnhancement Enhancement { get; init; } = ImageEnhancement.None;

    public static PreprocessOptions Default { get; } = new();
}

/// <summary>Turns an RGB image into the normalized <c>pixel_values</c> [3, H, W] an encoder consumes.</summary>
public sealed class ImagePreprocessor(PreprocessorConfig config, int patchSize)
{
    public PreprocessorConfig Config { get; } = config;

    public int PatchSize { get; } = patchSize;

    /// <summary>The (height, width) that <paramref name="options"/> produce.</summary>
    public (int Height, int Width) OutputSize(PreprocessOptions options)
    {
        if (options.Resolution is int resolution)
        {
            if (resolution <= 0 || resolution % PatchSize != 0)
            {
                throw new BadInputException($"resolution {resolution} must be a positive multiple of the patch size {PatchSize}.");
            }
            return (resolution, resolution);
        }
        return Config.OutputSize;
    }

    /// <summary>The geometric part: enhancement, resize, crop or pad. The result has exactly <see cref="OutputSize"/>.</summary>
    public Image<Rgb24> Transform(Image<Rgb24> image, PreprocessOptions options)
    {
        (int height, int width) = OutputSize(options);
        Image<Rgb24> working = options.Enhancement == ImageEnhancement.None ? image.Clone() : ImageEnhancer.Apply(image, options.Enhancement);
        try
        {
            switch (options.Mode)
            {
                case PreprocessMode.Crop:
                    ResizeAndCrop(working, height, width, options.Resolution is not null);
                    break;
                case PreprocessMode.Pad:
                    Image<Rgb24> square = PadToSquare(working);
                    working.Dispose();
                    working = square;
                    Resize(working, height, width);
                    break;
                case PreprocessMode.Stretch:
                    Resize(working, height, width);
                    break;
            }
            return working;
        }
        catch
        {
            working.Dispose();
            throw;
        }
    }

    /// <summary>Channel-first float32 values after rescale and normalize, as transformers computes them.</summary>
    public float[] ToPixelArray(Image<Rgb24> image, PreprocessOptions options, out int height, out int width)
    {
        using Image<Rgb24> transformed = Transform(image, options);
        height = transformed.Height;
        width = transformed.Width;
        int plane = height * width;
        float[] values = new float[3 * plane];
        float[][] lookup = ChannelLookupTables();
        int rowWidth = width;
        transformed.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                int offset = y * rowWidth;
                for (int x = 0; x < row.Length; x++)
                {
                    values[offset + x] = lookup[0][row[x].R];
                    values[plane + offset + x] = lookup[1][row[x].G];
                    values[2 * plane + offset + x] = lookup[2][row[x].B];
                }
            }
        });
        return values;
    }

    /// <summary>A float32 CPU tensor [3, H, W].</summary>
    public torch.Tensor ToPixelValues(Image<Rgb24> image, PreprocessOptions? options = null)
    {
        float[] values = ToPixelArray(image, options ?? PreprocessOptions.Default, out int height, out int width);
        return torch.tensor(values, [3, height, width]);
    }

    /// <summary>
    /// The normalized value of each 8-bit level per channel, computed as transformers does: rescale in float64 then cast to
    /// float32 (numpy's astype(float64) * scale), then (x - mean) / std in float32.
    /// </summary>
    private float[][] ChannelLookupTables()
    {
        var tables = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            tables[c] = new float[256];
            for (int level = 0; level < 256; level++)
            {
                float value = Config.DoRescale ? (float)(level * Config.RescaleFactor) : level;
                tables[c][level] = Config.DoNormalize ? (value - Config.ImageMean[c]) / Config.ImageStd[c] : value;
            }
        }
        return tables;
    }

    private void ResizeAndCrop(Image<Rgb24> image, int height, int width, bool resolutionOverridden)
    {
        if (Config.DoResize)
        {
            if (Config.ShortestEdge is int configuredEdge)
            {
                // An overridden resolution keeps the checkpoint's resize-to-crop ratio (256/224 for DINOv2 at 224).
                int edge = resolutionOverridden && Config.DoCenterCrop
                    ? (int)Math.Round(configuredEdge * (double)height / Config.CropHeight)
                    : resolutionOverridden ? height : configuredEdge;
                (int h, int w) = ShortestEdgeSize(image.Height, image.Width, edge);
                Resize(image, h, w);
            }
            else
            {
                Resize(image, height, width);
            }
        }
        CenterCrop(image, height, width);
    }

    /// <summary>transformers' get_resize_output_image_size(default_to_square=False): the long side is truncated, not rounded.</summary>
    public static (int Height, int Width) ShortestEdgeSize(int height, int width, int edge)
    {
        int shortSide = Math.Min(height, width), longSide = Math.Max(height, width);
        int newLong = (int)(edge * (double)longSide / shortSide);
        return width <= height ? (newLong, edge) : (edge, newLong);
    }

    private void Resize(Image<Rgb24> image, int height, int width)
    {
        if (image.Height == height && image.Width == width)
        {
            return;
        }
        image.Mutate(x => x.Resize(new ResizeOptions
        {
            Size = new Size(width, height),
            Mode = ResizeMode.Stretch,
            Sampler = Sampler(Config.Resample),
            Compand = false,
        }));
    }

    /// <summary>Crops the center; an image smaller than the crop is padded with zeros first, as transformers' center_crop does.</summary>
    private static void CenterCrop(Image<Rgb24> image, int height, int width)
    {
        if (image.Height == height && image.Width == width)
        {
            return;
        }
        if (image.Height < height || image.Width < width)
        {
            int padHeight = Math.Max(height, image.Height), padWidth = Math.Max(width, image.Width);
            image.Mutate(x => x.Pad(padWidth, padHeight, Color.Black));
        }
        int top = (image.Height - height) / 2, left = (image.Width - width) / 2;
        image.Mutate(x => x.Crop(new Rectangle(left, top, width, height)));
    }

    /// <summary>LLaVA's expand2square: the background is the mean color, each channel int(mean * 255).</summary>
    private Image<Rgb24> PadToSquare(Image<Rgb24> image)
    {
        int side = Math.Max(image.Width, image.Height);
        var background = new Rgb24((byte)(int)(Config.ImageMean[0] * 255), (byte)(int)(Config.ImageMean[1] * 255), (byte)(int)(Config.ImageMean[2] * 255));
        var square = new Image<Rgb24>(image.GetConfiguration(), side, side, background);
        var offset = new Point((side - image.Width) / 2, (side - image.Height) / 2);
        square.Mutate(x => x.DrawImage(image, offset, 1f));
        return square;
    }

    private static IResampler Sampler(ResampleFilter filter) => filter switch
    {
        ResampleFilter.Nearest => KnownResamplers.NearestNeighbor,
        ResampleFilter.Bilinear => KnownResamplers.Triangle,
        ResampleFilter.Bicubic => KnownResamplers.Bicubic,
        ResampleFilter.Lanczos => KnownResamplers.Lanczos3,
        ResampleFilter.Box => KnownResamplers.Box,
        _ => throw new ArgumentOutOfRangeException(nameof(filter)),
    };
}
