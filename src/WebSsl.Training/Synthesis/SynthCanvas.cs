using SkiaSharp;

namespace WebSsl.Training.Synthesis;

/// <summary>
/// A Skia canvas that records what is drawn on it (<see cref="LayoutElement"/>s). Text is drawn with grayscale
/// anti-aliasing, no hinting and no subpixel positioning, so the same call draws the same pixels on any machine.
/// </summary>
public sealed class SynthCanvas : IDisposable
{
    private readonly List<LayoutElement> _layout = [];
    private readonly SynthFonts _fonts;

    public SynthCanvas(int width, int height, SKColor background, SynthFonts? fonts = null)
    {
        Width = width;
        Height = height;
        Background = background;
        _fonts = fonts ?? SynthFonts.Default;
        Bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        Canvas = new SKCanvas(Bitmap);
        Canvas.Clear(background);
    }

    public int Width { get; }
    public int Height { get; }
    public SKColor Background { get; }
    public SKBitmap Bitmap { get; }
    public SKCanvas Canvas { get; }
    public IReadOnlyList<LayoutElement> Layout => _layout;

    public SKFont Font(float size, FontWeight weight) => new(_fonts.Get(weight), size)
    {
        Edging = SKFontEdging.Antialias,
        Hinting = SKFontHinting.None,
        Subpixel = false,
    };

    public float Measure(string text, float size, FontWeight weight = FontWeight.Regular)
    {
        using SKFont font = Font(size, weight);
        return font.MeasureText(text);
    }

    /// <summary>The largest size up to <paramref name="size"/> at which the text fits in <paramref name="maxWidth"/>.</summary>
    public float Fit(string text, float size, float maxWidth, FontWeight weight = FontWeight.Regular, float minimum = 7)
    {
        while (size > minimum && Measure(text, size, weight) > maxWidth)
        {
            size -= 0.5f;
        }
        return size;
    }

    /// <summary>Draws text with its baseline at <paramref name="y"/> and records its bounds.</summary>
    /// <remarks>With <paramref name="halo"/>, the background color is painted under the text first, so grid lines and
    /// data lines never cross a label (and the label reads the same as on a blank canvas).</remarks>
    public LayoutElement Text(string role, string text, float x, float y, float size, SKColor color, FontWeight weight = FontWeight.Regular,
        SKTextAlign align = SKTextAlign.Left, decimal? value = null, bool halo = false)
    {
        using SKFont font = Font(size, weight);
        using var paint = new SKPaint { Color = color, IsAntialias = true };
        float advance = font.MeasureText(text, out SKRect bounds);
        float shift = align switch { SKTextAlign.Center => -advance / 2, SKTextAlign.Right => -advance, _ => 0 };
        if (halo)
        {
            using var clear = new SKPaint { Color = Background, Style = SKPaintStyle.Fill };
            Canvas.DrawRect(new SKRect(x + shift + bounds.Left - 2, y + bounds.Top - 2, x + shift + bounds.Right + 2, y + bounds.Bottom + 2), clear);
        }
        Canvas.DrawText(text, x, y, align, font, paint);
        var element = new LayoutElement
        {
            Role = role,
            Text = text,
            Left = x + shift + bounds.Left,
            Top = y + bounds.Top,
            Right = x + shift + bounds.Right,
            Bottom = y + bounds.Bottom,
            Value = value,
            Style = new TextStyle(x, y, size, weight, (uint)color, align.ToString().ToLowerInvariant()),
        };
        _layout.Add(element);
        return element;
    }

    /// <summary>Draws text rotated 90° counter-clockwise around its origin (y-axis titles); recorded unrotated bounds are the rotated box.</summary>
    public LayoutElement VerticalText(string role, string text, float x, float y, float size, SKColor color, FontWeight weight = FontWeight.Regular)
    {
        using SKFont font = Font(size, weight);
        using var paint = new SKPaint { Color = color, IsAntialias = true };
        float advance = font.MeasureText(text, out SKRect bounds);
        Canvas.Save();
        Canvas.RotateDegrees(-90, x, y);
        Canvas.DrawText(text, x, y, SKTextAlign.Center, font, paint);
        Canvas.Restore();
        var element = new LayoutElement
        {
            Role = role,
            Text = text,
            Left = x + bounds.Top,
            Right = x + bounds.Bottom,
            Top = y - advance / 2,
            Bottom = y + advance / 2,
            Style = new TextStyle(x, y, size, weight, (uint)color, "vertical"),
        };
        _layout.Add(element);
        return element;
    }

    /// <summary>A filled mark (bar, cell, legend swatch); recorded with its label and value when it stands for one.</summary>
    public void Mark(string? role, SKRect rect, SKColor color, string label = "", decimal? value = null)
    {
        using var paint = new SKPaint { Color = color, IsAntialias = false, Style = SKPaintStyle.Fill };
        Canvas.DrawRect(rect, paint);
        if (role is not null)
        {
            _layout.Add(new LayoutElement { Role = role, Text = label, Left = rect.Left, Top = rect.Top, Right = rect.Right, Bottom = rect.Bottom, Value = value, Color = (uint)color });
        }
    }

    public void Record(LayoutElement element) => _layout.Add(element);

    public void Line(float x0, float y0, float x1, float y1, SKColor color, float width = 1, bool antialias = false)
    {
        using var paint = new SKPaint { Color = color, StrokeWidth = width, IsAntialias = antialias, Style = SKPaintStyle.Stroke };
        Canvas.DrawLine(x0, y0, x1, y1, paint);
    }

    public void Dispose()
    {
        Canvas.Dispose();
        Bitmap.Dispose();
    }
}
