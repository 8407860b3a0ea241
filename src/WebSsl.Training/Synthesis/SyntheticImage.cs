using System.Text.Json.Serialization;

namespace WebSsl.Training.Synthesis;

public enum SynthKind
{
    Bar,
    Line,
    Pie,
    Table,
    Document,
    Receipt,

    /// <summary>A random kind among the ones above (never <see cref="Page"/>: pages are asked for by name).</summary>
    Mixed,

    /// <summary>A full document page with small text: a form of many fields, line items, body text (<see cref="PageRenderer"/>).</summary>
    Page,
}

/// <summary>Question categories; every synthetic question carries one, and evaluation scores per category.</summary>
public static class SynthCategory
{
    public const string ValueLookup = "value-lookup";
    public const string MaxMin = "max-min";
    public const string Count = "count";
    public const string Compare = "compare";
    public const string ReadTitle = "read-title";
    public const string ReadAxis = "read-axis";
    public const string ReadLine = "read-line";
    public const string ExtractField = "extract-field";
    public const string SumTotal = "sum-total";

    public static IReadOnlyList<string> All { get; } = [ValueLookup, MaxMin, Count, Compare, ReadTitle, ReadAxis, ReadLine, ExtractField, SumTotal];
}

/// <summary>A question about an image, its exact short answer and its category.</summary>
public sealed record SynthQuestion(string Question, string Answer, string Category);

/// <summary>
/// Something drawn, where and how: text (with its origin, size, weight, color and alignment, so it can be drawn again
/// and compared pixel for pixel) or a mark (bar, point, slice, cell) with the value it stands for. Coordinates are in the
/// image before any scan rotation.
/// </summary>
public sealed record LayoutElement
{
    public required string Role { get; init; }
    public string Text { get; init; } = "";
    public float Left { get; init; }
    public float Top { get; init; }
    public float Right { get; init; }
    public float Bottom { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public decimal? Value { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TextStyle? Style { get; init; }

    /// <summary>RGBA of the mark (bars, slices, points).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public uint? Color { get; init; }
}

/// <summary>How a piece of text was drawn: baseline origin, size, weight, color (RGBA) and alignment (left, center, right).</summary>
public sealed record TextStyle(float X, float Y, float Size, FontWeight Weight, uint Color, string Align);

/// <summary>What scanning did to an image (documents and receipts only).</summary>
public sealed record ScanEffects(double RotationDegrees, int NoiseAmplitude, int JpegQuality);

/// <summary>One rendered image with the truth about it.</summary>
public sealed record SyntheticImage(
    string Id,
    SynthKind Kind,
    string Format,
    byte[] Bytes,
    int Width,
    int Height,
    uint Background,
    IReadOnlyList<SynthQuestion> Questions,
    IReadOnlyList<LayoutElement> Layout,
    ScanEffects? Scan);
