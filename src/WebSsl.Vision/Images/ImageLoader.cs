using System.Collections.Concurrent;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace WebSsl.Vision.Images;

/// <summary>What the header of an image says, read without decoding its pixels.</summary>
public sealed record ImageHeader(string Format, string MimeType, int Width, int Height);

/// <summary>
/// Turns untrusted bytes into an 8-bit RGB image: every limit is checked from the header before any pixel is decoded,
/// truncated containers are refused, EXIF orientation is applied and transparency is composited on white.
/// </summary>
public static class ImageLoader
{
    private static readonly ConcurrentDictionary<int, Configuration> Configurations = new();

    /// <summary>Reads a file, checking its size before reading it.</summary>
    public static Image<Rgb24> LoadFile(string path, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        // A symbolic link (an HF cache snapshot, say) reports its own length; the limit applies to what it points to.
        var file = new FileInfo(path) is { LinkTarget: not null } link && link.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target ? target : new FileInfo(path);
        if (!file.Exists)
        {
            throw new FileNotFoundException($"{path}: image file not found.", path);
        }
        CheckByteCount(path, file.Length, limits);
        return Load(File.ReadAllBytes(path), path, limits);
    }

    /// <summary>Validates and decodes <paramref name="data"/>; <paramref name="source"/> names it in errors.</summary>
    public static Image<Rgb24> Load(ReadOnlySpan<byte> data, string source, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        ImageHeader header = Inspect(data, source, limits);
        Configuration configuration = ConfigurationFor(limits);
        Image<Rgba32> decoded;
        try
        {
            decoded = Image.Load<Rgba32>(configuration, data);
        }
        catch (InvalidMemoryOperationException e)
        {
            throw new ImageRejectedException(source, ImageRejection.TooManyPixels,
                $"{header.Width}x{header.Height} needs more than the decode limit of {limits.MaxDecodeMegabytes} MB in one buffer.", e);
        }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            throw new ImageRejectedException(source, ImageRejection.Corrupt, $"{header.Format} data cannot be decoded: {e.Message}", e);
        }
        using (decoded)
        {
            decoded.Mutate(x => x.AutoOrient());
            return CompositeOnWhite(decoded);
        }
    }

    /// <summary>
    /// Checks size, format, dimensions and container completeness from the bytes alone. Servers call this on upload so
    /// that only images the encoder can use are stored.
    /// </summary>
    public static ImageHeader Inspect(ReadOnlySpan<byte> data, string source, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        CheckByteCount(source, data.Length, limits);
        Configuration configuration = ConfigurationFor(limits);
        IImageFormat? format = Image.DetectFormat(configuration, data);
        if (format is null)
        {
            throw new ImageRejectedException(source, ImageRejection.UnsupportedFormat,
                "not an image in a supported format (PNG, JPEG, WebP, GIF, BMP, TIFF); the content was checked, not the file name.");
        }
        IImageInfo? info;
        try
        {
            using var stream = new MemoryStream(data.ToArray(), writable: false);
            info = Image.Identify(configuration, stream);
        }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            throw new ImageRejectedException(source, ImageRejection.Corrupt, $"{format.Name} header cannot be read: {e.Message}", e);
        }
        if (info is null || info.Width <= 0 || info.Height <= 0)
        {
            throw new ImageRejectedException(source, ImageRejection.Corrupt, $"{format.Name} header has no valid dimensions.");
        }
        if (info.Width > limits.MaxSide || info.Height > limits.MaxSide)
        {
            throw new ImageRejectedException(source, ImageRejection.TooManyPixels,
                $"{info.Width}x{info.Height} has a side over the limit of {limits.MaxSide} pixels.");
        }
        long pixels = (long)info.Width * info.Height;
        if (pixels > limits.MaxPixels)
        {
            throw new ImageRejectedException(source, ImageRejection.TooManyPixels,
                $"{info.Width}x{info.Height} = {pixels:N0} pixels is over the limit of {limits.MaxPixels:N0}; nothing was decoded.");
        }
        long decodedBytes = pixels * 4; // decoded as RGBA32
        if (decodedBytes > (long)limits.MaxDecodeMegabytes * 1024 * 1024)
        {
            throw new ImageRejectedException(source, ImageRejection.TooManyPixels,
                $"{info.Width}x{info.Height} needs {decodedBytes / (1024 * 1024)} MB decoded, over the decode limit of {limits.MaxDecodeMegabytes} MB.");
        }
        string? truncation = ImageIntegrity.FindTruncation(format.Name, data);
        if (truncation is not null)
        {
            throw new ImageRejectedException(source, ImageRejection.Truncated, $"truncated or incomplete file: {truncation}.");
        }
        return new ImageHeader(format.Name, format.DefaultMimeType, info.Width, info.Height);
    }

    /// <summary>
    /// ImageSharp reports malformed input with many exception types (ImageFormatException, but also IndexOutOfRange,
    /// InvalidOperation, EndOfStream... from deep inside decoders). All of them mean "this file is bad", none means the
    /// process is in trouble, except running out of memory.
    /// </summary>
    private static bool IsDecoderFailure(Exception e) => e is not (OutOfMemoryException or ImageRejectedException or OperationCanceledException);

    private static void CheckByteCount(string source, long length, ImageLimits limits)
    {
        if (length == 0)
        {
            throw new ImageRejectedException(source, ImageRejection.Empty, "the file is empty (0 bytes).");
        }
        if (length > limits.MaxBytes)
        {
            throw new ImageRejectedException(source, ImageRejection.TooManyBytes,
                $"{length:N0} bytes is over the limit of {limits.MaxBytes:N0} bytes.");
        }
    }

    /// <summary>Straight-alpha "over" white, rounded: out = (c*a + 255*(255-a)) / 255.</summary>
    private static Image<Rgb24> CompositeOnWhite(Image<Rgba32> image)
    {
        var result = new Image<Rgb24>(image.GetConfiguration(), image.Width, image.Height);
        image.ProcessPixelRows(result, (source, target) =>
        {
            for (int y = 0; y < source.Height; y++)
            {
                Span<Rgba32> from = source.GetRowSpan(y);
                Span<Rgb24> to = target.GetRowSpan(y);
                for (int x = 0; x < from.Length; x++)
                {
                    Rgba32 p = from[x];
                    int a = p.A, white = 255 * (255 - a);
                    to[x] = new Rgb24(
                        (byte)((p.R * a + white + 127) / 255),
                        (byte)((p.G * a + white + 127) / 255),
                        (byte)((p.B * a + white + 127) / 255));
                }
            }
        });
        return result;
    }

    /// <summary>A decoding configuration with a per-buffer memory cap and first-frame-only decoding of animations.</summary>
    private static Configuration ConfigurationFor(ImageLimits limits) =>
        Configurations.GetOrAdd(limits.MaxDecodeMegabytes, megabytes =>
        {
            Configuration configuration = Configuration.Default.Clone();
            configuration.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { AllocationLimitMegabytes = megabytes });
            configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
            configuration.ImageFormatsManager.SetDecoder(TiffFormat.Instance, new TiffDecoder { DecodingMode = FrameDecodingMode.First });
            return configuration;
        });
}
