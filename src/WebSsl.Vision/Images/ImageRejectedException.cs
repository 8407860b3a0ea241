namespace WebSsl.Vision.Images;

/// <summary>Why an image was refused. Servers map these to 4xx responses; nothing here is a server fault.</summary>
public enum ImageRejection
{
    /// <summary>Zero bytes.</summary>
    Empty,
    /// <summary>More bytes than <see cref="ImageLimits.MaxBytes"/>.</summary>
    TooManyBytes,
    /// <summary>Not PNG, JPEG, WebP, GIF, BMP or TIFF (by content, not by name).</summary>
    UnsupportedFormat,
    /// <summary>Width x height over <see cref="ImageLimits.MaxPixels"/> or a side over <see cref="ImageLimits.MaxSide"/>, read from the header before decoding.</summary>
    TooManyPixels,
    /// <summary>The file ends before the image data does.</summary>
    Truncated,
    /// <summary>The data cannot be decoded.</summary>
    Corrupt,
}

/// <summary>An image that was refused, naming the source, the rule and the numbers involved.</summary>
public sealed class ImageRejectedException(string source, ImageRejection reason, string detail, Exception? inner = null)
    : WebSslException(KindOf(reason), "image-rejected", $"{source}: {detail}", inner)
{
    /// <summary>The bytes are wrong (unsupported, unreadable) or too big, never a fault of the program.</summary>
    public static ProblemKind KindOf(ImageRejection reason) => reason switch
    {
        ImageRejection.Empty => ProblemKind.BadInput,
        ImageRejection.TooManyBytes => ProblemKind.TooLarge,
        ImageRejection.UnsupportedFormat => ProblemKind.Unsupported,
        _ => ProblemKind.Unprocessable,
    };

    public string SourceName { get; } = source;

    public ImageRejection Reason { get; } = reason;

    public string Detail { get; } = detail;
}
