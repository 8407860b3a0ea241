using SkiaSharp;

namespace WebSsl.Training.Synthesis;

/// <summary>Bar, line and pie charts with titles, axes, legends and value labels, and questions whose answers are printed on them.</summary>
internal static class ChartRenderer
{
    private static readonly SKColor Grid = new(0xDD, 0xDD, 0xDD);

    public static List<SynthQuestion> Bar(SynthCanvas c, Random random)
    {
        Dimension dimension = random.Pick(SynthContent.Dimensions);
        Measure measure = random.Pick(SynthContent.Measures);
        int n = random.Next(2, 13);
        string[] labels = random.PickDistinct(dimension.Labels, n, dimension.Ordered);
        decimal[] values = random.Values(measure, n);
        SKColor ink = random.Pick(SynthContent.Inks);
        bool multicolor = random.Next(3) == 0;
        SKColor single = random.Pick(SynthContent.Palette);
        (string, SKColor)[] legend = !multicolor && random.Next(2) == 0 ? [(measure.Name, single)] : [];
        var frame = Frame(c, random, measure, dimension, ink, values.Max(), legend);
        float slot = frame.Plot.Width / n;
        float barWidth = slot * (0.5f + 0.3f * (float)random.NextDouble());
        float labelSize = Math.Min(12, frame.Plot.Width / n / 3.2f + 4);
        for (int i = 0; i < n; i++)
        {
            float center = frame.Plot.Left + slot * (i + 0.5f);
            float top = frame.Y(values[i]);
            SKColor color = multicolor ? SynthContent.Palette[i % SynthContent.Palette.Length] : single;
            c.Mark("bar", new SKRect(MathF.Round(center - barWidth / 2), MathF.Round(top), MathF.Round(center + barWidth / 2), frame.Plot.Bottom), color, labels[i], values[i]);
            string text = SynthContent.Format(values[i], measure);
            c.Text("value-label", text, center, top - 4, c.Fit(text, labelSize, slot - 2), ink, FontWeight.Medium, SKTextAlign.Center, values[i], halo: true);
            CategoryLabel(c, labels[i], center, frame.Plot.Bottom, slot, ink);
        }
        return Questions(random, frame.Title, AxisTitle(measure), dimension.Name, dimension, measure, labels, values, "bars", seriesName: null);
    }

    public static List<SynthQuestion> Line(SynthCanvas c, Random random)
    {
        Dimension dimension = random.Pick(SynthContent.Dimensions.Where(d => d.Ordered).ToArray());
        Measure measure = random.Pick(SynthContent.Measures);
        int n = random.Next(3, 13);
        int seriesCount = random.Next(3) == 0 ? 2 : 1;
        string[] labels = random.PickDistinct(dimension.Labels, n, keepOrder: true);
        string[] names = random.PickDistinct(SynthContent.SeriesNames, seriesCount, keepOrder: false);
        decimal[][] series = Enumerable.Range(0, seriesCount).Select(_ => random.Values(measure, n)).ToArray();
        SKColor ink = random.Pick(SynthContent.Inks);
        SKColor[] colors = random.PickDistinct(SynthContent.Palette, seriesCount, keepOrder: false);
        var frame = Frame(c, random, measure, dimension, ink, series.SelectMany(s => s).Max(), seriesCount > 1 ? names.Zip(colors).ToArray() : []);
        float slot = frame.Plot.Width / n;
        float labelSize = Math.Min(11, slot / 3.4f + 4);
        var points = new SKPoint[seriesCount][];
        for (int s = 0; s < seriesCount; s++)
        {
            using var stroke = new SKPaint { Color = colors[s], StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
            using var dot = new SKPaint { Color = colors[s], IsAntialias = true, Style = SKPaintStyle.Fill };
            points[s] = Enumerable.Range(0, n).Select(i => new SKPoint(frame.Plot.Left + slot * (i + 0.5f), frame.Y(series[s][i]))).ToArray();
            c.Canvas.DrawPoints(SKPointMode.Polygon, points[s], stroke);
            for (int i = 0; i < n; i++)
            {
                c.Canvas.DrawCircle(points[s][i], 3.5f, dot);
                c.Record(new LayoutElement
                {
                    Role = "point", Text = seriesCount > 1 ? $"{names[s]}|{labels[i]}" : labels[i], Left = points[s][i].X - 3.5f, Right = points[s][i].X + 3.5f,
                    Top = points[s][i].Y - 3.5f, Bottom = points[s][i].Y + 3.5f, Value = series[s][i], Color = (uint)colors[s],
                });
            }
        }
        // Labels after all lines, on a halo: the upper series labels above its points, the lower below.
        for (int s = 0; s < seriesCount; s++)
        {
            for (int i = 0; i < n; i++)
            {
                string text = SynthContent.Format(series[s][i], measure);
                bool above = seriesCount == 1 || series[s][i] >= series[1 - s][i] || points[s][i].Y + 9 + labelSize > frame.Plot.Bottom;
                c.Text("value-label", text, points[s][i].X, above ? points[s][i].Y - 7 : points[s][i].Y + 7 + labelSize, c.Fit(text, labelSize, slot - 2), colors[s],
                    FontWeight.Medium, SKTextAlign.Center, series[s][i], halo: true);
            }
        }
        for (int i = 0; i < n; i++)
        {
            CategoryLabel(c, labels[i], frame.Plot.Left + slot * (i + 0.5f), frame.Plot.Bottom, slot, ink);
        }
        if (seriesCount > 1)
        {
            int pick = random.Next(2);
            return Questions(random, frame.Title, AxisTitle(measure), dimension.Name, dimension, measure, labels, series[pick], "points", names[pick]);
        }
        return Questions(random, frame.Title, AxisTitle(measure), dimension.Name, dimension, measure, labels, series[0], "points", seriesName: null);
    }

    public static List<SynthQuestion> Pie(SynthCanvas c, Random random)
    {
        Dimension dimension = random.Pick(SynthContent.Dimensions.Where(d => !d.Ordered).ToArray());
        int n = random.Next(2, 9);
        string[] labels = random.PickDistinct(dimension.Labels, n, keepOrder: false);
        decimal[] shares = Shares(random, n);
        SKColor ink = random.Pick(SynthContent.Inks);
        string title = random.Next(2) == 0 ? $"Share of {random.Pick(SynthContent.Measures.Where(m => !m.Percent).ToArray()).Name.ToLowerInvariant()} by {dimension.Name.ToLowerInvariant()}" : $"{dimension.Name} breakdown";
        float titleSize = c.Fit(title, 18, c.Width - 20, FontWeight.Bold);
        c.Text("title", title, c.Width / 2f, 12 + titleSize, titleSize, ink, FontWeight.Bold, SKTextAlign.Center);
        float top = 24 + titleSize;
        float radius = Math.Min(c.Width * 0.55f, c.Height - top - 16) / 2;
        var center = new SKPoint(16 + radius, top + (c.Height - top) / 2);
        float start = -90;
        SKColor[] colors = random.PickDistinct(SynthContent.Palette, n, keepOrder: false);
        float legendX = center.X + radius + 18, legendY = center.Y - n * 11;
        for (int i = 0; i < n; i++)
        {
            float sweep = (float)(shares[i] / 100m * 360m);
            using var paint = new SKPaint { Color = colors[i], IsAntialias = true, Style = SKPaintStyle.Fill };
            var oval = new SKRect(center.X - radius, center.Y - radius, center.X + radius, center.Y + radius);
            c.Canvas.DrawArc(oval, start, sweep, useCenter: true, paint);
            c.Record(new LayoutElement { Role = "slice", Text = labels[i], Left = oval.Left, Top = oval.Top, Right = oval.Right, Bottom = oval.Bottom, Value = shares[i], Color = (uint)colors[i] });
            start += sweep;
            float y = legendY + i * 22;
            c.Mark("legend-swatch", new SKRect(legendX, y - 10, legendX + 12, y + 2), colors[i], labels[i]);
            string text = $"{labels[i]} {SynthContent.Format(shares[i], 1, percent: true)}";
            c.Text("legend", text, legendX + 18, y, c.Fit(text, 12, c.Width - legendX - 22), ink, FontWeight.Regular, SKTextAlign.Left, shares[i]);
        }
        var measure = new Measure("Share", "%", 0, 100, 1, Percent: true);
        int k = random.Next(n);
        var lookup = new SynthQuestion($"What percentage does {labels[k]} account for?", SynthContent.Format(shares[k], measure), SynthCategory.ValueLookup);
        List<SynthQuestion> rest = Questions(random, title, null, null, dimension, measure, labels, shares, "slices", seriesName: null, take: int.MaxValue);
        return [lookup, .. rest.Where(q => q.Category is not SynthCategory.ValueLookup and not SynthCategory.SumTotal).Take(3)];
    }

    /// <summary>Percentages with one decimal that sum to exactly 100, all different.</summary>
    private static decimal[] Shares(Random random, int n)
    {
        while (true)
        {
            double[] weights = Enumerable.Range(0, n).Select(_ => 0.3 + random.NextDouble()).ToArray();
            double total = weights.Sum();
            decimal[] shares = weights.Select(w => Math.Round((decimal)(w / total * 100), 1)).ToArray();
            int largest = Array.IndexOf(shares, shares.Max());
            shares[largest] += 100m - shares.Sum();
            if (shares.Distinct().Count() == n && shares.All(s => s > 0))
            {
                return shares;
            }
        }
    }

    private sealed record ChartFrame(string Title, SKRect Plot, decimal AxisMax)
    {
        public float Y(decimal value) => Plot.Bottom - (float)(value / AxisMax) * Plot.Height;
    }

    /// <summary>Title, axis titles, y ticks with grid lines and the axes themselves; returns the plot area and scale.</summary>
    private static ChartFrame Frame(SynthCanvas c, Random random, Measure measure, Dimension dimension, SKColor ink, decimal max,
        (string Name, SKColor Color)[] legend)
    {
        string title = random.Title(measure, dimension);
        float titleSize = c.Fit(title, 16 + random.Next(4), c.Width - 20, FontWeight.Bold);
        c.Text("title", title, c.Width / 2f, 10 + titleSize, titleSize, ink, FontWeight.Bold, SKTextAlign.Center);
        decimal step = NiceStep(max / 5);
        decimal axisMax = Math.Ceiling(max * 1.08m / step) * step;
        int stepDecimals = 0;
        while (step * Pow10(stepDecimals) % 1 != 0)
        {
            stepDecimals++;
        }
        string widest = SynthContent.Format(axisMax, stepDecimals);
        float tickSize = 10;
        float left = 30 + c.Measure(widest, tickSize) + 8;
        float legendRow = legend.Length > 0 ? 20 : 0;
        var plot = new SKRect(left, 22 + titleSize + 12 + legendRow, c.Width - 14, c.Height - 46);
        if (legend.Length > 0)
        {
            Legend(c, legend, plot.Right, plot.Top - legendRow - 4, ink);
        }
        var frame = new ChartFrame(title, plot, axisMax);
        for (decimal v = 0; v <= axisMax; v += step)
        {
            float y = frame.Y(v);
            c.Line(plot.Left, y, plot.Right, y, Grid);
            c.Text("tick", SynthContent.Format(v, stepDecimals), plot.Left - 5, y + tickSize / 3, tickSize, ink, FontWeight.Light, SKTextAlign.Right, v);
        }
        c.Line(plot.Left, plot.Top, plot.Left, plot.Bottom, ink);
        c.Line(plot.Left, plot.Bottom, plot.Right, plot.Bottom, ink);
        c.VerticalText("y-axis-title", AxisTitle(measure), 14, plot.MidY, c.Fit(AxisTitle(measure), 12, plot.Height), ink, FontWeight.Medium);
        c.Text("x-axis-title", dimension.Name, plot.MidX, c.Height - 8, 12, ink, FontWeight.Medium, SKTextAlign.Center);
        return frame;
    }

    private static decimal Pow10(int n) => n == 0 ? 1 : 10 * Pow10(n - 1);

    private static string AxisTitle(Measure measure) => SynthContent.AxisTitle(measure);

    private static decimal NiceStep(decimal rough)
    {
        decimal magnitude = (decimal)Math.Pow(10, Math.Floor(Math.Log10((double)rough)));
        decimal fraction = rough / magnitude;
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5m ? 2.5m : fraction <= 5 ? 5 : 10) * magnitude;
    }

    private static void CategoryLabel(SynthCanvas c, string label, float center, float axis, float slot, SKColor ink) =>
        c.Text("category-label", label, center, axis + 16, c.Fit(label, 11, slot - 2), ink, FontWeight.Regular, SKTextAlign.Center);

    /// <summary>A one-row legend above the plot, right-aligned, so it never covers data.</summary>
    private static void Legend(SynthCanvas c, (string Name, SKColor Color)[] entries, float right, float top, SKColor ink)
    {
        float x = right - entries.Sum(e => c.Measure(e.Name, 11) + 30);
        foreach (var (name, color) in entries)
        {
            c.Mark("legend-swatch", new SKRect(x, top + 4, x + 12, top + 14), color, name);
            c.Text("legend", name, x + 17, top + 14, 11, ink);
            x += c.Measure(name, 11) + 30;
        }
    }

    /// <summary>Four questions of different categories about one series of labeled values.</summary>
    private static List<SynthQuestion> Questions(Random random, string title, string? yTitle, string? xTitle, Dimension dimension, Measure measure,
        string[] labels, decimal[] values, string marks, string? seriesName, int take = 4)
    {
        int n = labels.Length;
        string of = seriesName is null ? "" : $" of {seriesName}";
        string what = measure.Name.ToLowerInvariant();
        var pool = new List<SynthQuestion>();
        int k = random.Next(n);
        pool.Add(new($"What is the {what}{of} for {labels[k]}?", SynthContent.Format(values[k], measure), SynthCategory.ValueLookup));
        bool highest = random.Next(2) == 0;
        int extreme = Array.IndexOf(values, highest ? values.Max() : values.Min());
        pool.Add(new($"Which {dimension.Name.ToLowerInvariant()} has the {(highest ? "highest" : "lowest")} {what}{of}?", labels[extreme], SynthCategory.MaxMin));
        pool.Add(new($"How many {marks} are shown{(seriesName is null ? "" : $" for {seriesName}")}?", n.ToString(System.Globalization.CultureInfo.InvariantCulture), SynthCategory.Count));
        if (n >= 2)
        {
            int[] two = random.PickDistinct(Enumerable.Range(0, n).ToArray(), 2, keepOrder: false);
            bool greater = random.Next(2) == 0;
            int winner = (values[two[0]] > values[two[1]]) == greater ? two[0] : two[1];
            pool.Add(new($"Which is {(greater ? "greater" : "smaller")}{of}, {labels[two[0]]} or {labels[two[1]]}?", labels[winner], SynthCategory.Compare));
        }
        pool.Add(new("What is the title of the chart?", title, SynthCategory.ReadTitle));
        if (yTitle is not null && xTitle is not null)
        {
            pool.Add(random.Next(2) == 0
                ? new("What is the label of the y-axis?", yTitle, SynthCategory.ReadAxis)
                : new("What is the label of the x-axis?", xTitle, SynthCategory.ReadAxis));
        }
        if (!measure.Percent)
        {
            pool.Add(new($"What is the sum of all {what} values{of}?", SynthContent.Format(values.Sum(), measure), SynthCategory.SumTotal));
        }
        return pool.OrderBy(_ => random.Next()).Take(take).ToList();
    }
}
