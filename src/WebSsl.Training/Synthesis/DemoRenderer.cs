using System.Globalization;
using SkiaSharp;

namespace WebSsl.Training.Synthesis;

/// <summary>
/// The demo profile: small images (140 x 140 by default) with large text and few elements — bar and line charts over a
/// fixed 0–10 grid with bars lettered A–F, and short documents with a type, text lines and a total — so that the
/// offline demo assistant, trained from scratch on a 2-core CPU in minutes, can genuinely learn to read them. The
/// question categories are the standard ones.
/// </summary>
internal static class DemoRenderer
{
    private const int MaxBars = 6;

    public static readonly string[] Titles = ["Sales", "Profit", "Visitors", "Orders", "Rainfall", "Energy"];
    public static readonly string[] DocumentTypes = ["Invoice", "Receipt", "Report", "Letter", "Memo"];
    private static readonly string[] Filler = ["item", "paid", "due", "ref", "note", "date", "net", "qty", "unit", "tax", "fee", "sum"];

    public static List<SynthQuestion> Bar(SynthCanvas c, Random random) => Chart(c, random, bars: true);

    public static List<SynthQuestion> Line(SynthCanvas c, Random random) => Chart(c, random, bars: false);

    private static List<SynthQuestion> Chart(SynthCanvas c, Random random, bool bars)
    {
        SKColor ink = random.Pick(SynthContent.Inks);
        SKColor color = random.Pick(SynthContent.Palette);
        string title = random.Pick(Titles);
        int n = random.Next(3, MaxBars + 1);
        int[] values = DistinctExtremes(random, n);
        string[] labels = Enumerable.Range(0, n).Select(i => ((char)('A' + i)).ToString()).ToArray();

        float scale = c.Height / 140f, font = FontScale(c);
        c.Text("title", title, c.Width / 2f, 16 * scale, 14 * font, ink, FontWeight.Bold, SKTextAlign.Center);
        float left = 10 * scale, right = c.Width - 6 * scale, top = 26 * scale, bottom = c.Height - 20 * scale;
        var grid = new SKColor(ink.Red, ink.Green, ink.Blue, 50);
        for (int v = 0; v <= 10; v += 2)
        {
            float y = bottom - (bottom - top) * v / 10f;
            c.Line(left, y, right, y, v == 0 ? ink : grid);
        }
        float slot = (right - left) / n;
        var points = new List<SKPoint>();
        for (int i = 0; i < n; i++)
        {
            float center = left + slot * (i + 0.5f);
            float y = bottom - (bottom - top) * values[i] / 10f;
            if (bars)
            {
                float half = Math.Min(slot * 0.32f, 9 * scale);
                c.Mark("bar", new SKRect(center - half, y, center + half, bottom), color, labels[i], values[i]);
            }
            else
            {
                points.Add(new SKPoint(center, y));
                c.Record(new LayoutElement { Role = "point", Text = labels[i], Left = center, Right = center, Top = y, Bottom = y, Value = values[i], Color = (uint)color });
            }
            c.Text("x-label", labels[i], center, c.Height - 5 * scale, 12 * font, ink, FontWeight.Bold, SKTextAlign.Center);
        }
        if (!bars)
        {
            for (int i = 1; i < points.Count; i++)
            {
                c.Line(points[i - 1].X, points[i - 1].Y, points[i].X, points[i].Y, color, 2.5f * scale, antialias: true);
            }
            using var dot = new SKPaint { Color = color, IsAntialias = true };
            foreach (SKPoint p in points)
            {
                c.Canvas.DrawCircle(p, 3.5f * scale, dot);
            }
        }

        int max = Array.IndexOf(values, values.Max()), min = Array.IndexOf(values, values.Min());
        int k = random.Next(n);
        int[] two = random.PickDistinct(Enumerable.Range(0, n).ToArray(), 2, keepOrder: false);
        string noun = bars ? "bar" : "point";
        var pool = new List<SynthQuestion>
        {
            new($"How many {noun}s are there?", n.ToString(CultureInfo.InvariantCulture), SynthCategory.Count),
            random.Next(2) == 0
                ? new(bars ? "Which bar is the tallest?" : "Where is the line highest?", labels[max], SynthCategory.MaxMin)
                : new(bars ? "Which bar is the shortest?" : "Where is the line lowest?", labels[min], SynthCategory.MaxMin),
            new($"What is the value of {labels[k]}?", values[k].ToString(CultureInfo.InvariantCulture), SynthCategory.ValueLookup),
            new("What is the title?", title, SynthCategory.ReadTitle),
        };
        if (values[two[0]] != values[two[1]])
        {
            pool.Add(new($"Which is higher, {labels[two[0]]} or {labels[two[1]]}?", labels[values[two[0]] > values[two[1]] ? two[0] : two[1]], SynthCategory.Compare));
        }
        return pool.OrderBy(_ => random.Next()).Take(4).ToList();
    }

    /// <summary>Text shrinks less than the drawing on small canvases, so it stays legible at 112 px.</summary>
    private static float FontScale(SynthCanvas c) => Math.Max(c.Height / 140f, 0.9f);

    /// <summary>Values 1–9 whose maximum and minimum are each unique, so "tallest" and "shortest" have one answer.</summary>
    private static int[] DistinctExtremes(Random random, int n)
    {
        while (true)
        {
            int[] values = Enumerable.Range(0, n).Select(_ => random.Next(1, 10)).ToArray();
            if (values.Count(v => v == values.Max()) == 1 && values.Count(v => v == values.Min()) == 1)
            {
                return values;
            }
        }
    }

    public static List<SynthQuestion> Document(SynthCanvas c, Random random)
    {
        SKColor ink = random.Pick(SynthContent.Inks);
        float scale = c.Height / 140f, font = FontScale(c);
        string type = random.Pick(DocumentTypes);
        c.Text("title", type, 10 * scale, 22 * scale, 17 * font, ink, FontWeight.Bold);
        c.Line(10 * scale, 28 * scale, c.Width - 10 * scale, 28 * scale, ink);
        int lines = random.Next(2, 6);
        for (int i = 0; i < lines; i++)
        {
            string text = string.Join(' ', Enumerable.Range(0, random.Next(2, 4)).Select(_ => random.Pick(Filler)));
            c.Text("line", text, 10 * scale, (44 + 15 * i) * scale, 11 * font, ink);
        }
        int total = random.Next(10, 100);
        string totalText = total.ToString(CultureInfo.InvariantCulture);
        c.Line(10 * scale, c.Height - 28 * scale, c.Width - 10 * scale, c.Height - 28 * scale, ink);
        c.Text("field-key", "Total", 10 * scale, c.Height - 10 * scale, 14 * font, ink, FontWeight.Bold);
        c.Text("total", totalText, c.Width - 10 * scale, c.Height - 10 * scale, 16 * font, ink, FontWeight.Bold, SKTextAlign.Right, total);
        var pool = new List<SynthQuestion>
        {
            new("What type of document is this?", type, SynthCategory.ReadTitle),
            new("How many lines of text are there?", lines.ToString(CultureInfo.InvariantCulture), SynthCategory.Count),
            new("What is the total?", totalText, SynthCategory.SumTotal),
        };
        return pool.OrderBy(_ => random.Next()).ToList();
    }
}
