namespace WebSsl.Vision.Images;

/// <summary>
/// Limits checked before an image is decoded, so a hostile or accidental giant costs nothing.
/// The defaults admit any real scan or chart (36 megapixels holds a 600 dpi A4 or a 300 dpi A2 page) while one decode
/// holds at most ~250 MB (RGBA32 frame plus RGB24 copy); <see cref="ImageDecodeGate"/> bounds how many run at once.
/// </summary>
public sealed record ImageLimits
{
    /// <summary>Largest encoded file accepted.</summary>
    public long MaxBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Largest width x height accepted, read from the header.</summary>
    public long MaxPixels { get; init; } = 36_000_000;

    /// <summary>Longest side accepted (guards against 1 x 60,000,000 strips).</summary>
    public int MaxSide { get; init; } = 32_768;

    /// <summary>Largest single buffer the decoder may allocate, in megabytes.</summary>
    public int MaxDecodeMegabytes { get; init; } = 1024;

    public static ImageLimits Default { get; } = new();
}
