using System.Globalization;
using SkiaSharp;

namespace WebSsl.Training.Synthesis;

/// <summary>A captioned table: one label column and one to three numeric columns, with questions about cells, columns and rows.</summary>
internal static class TableRenderer
{
    public static List<SynthQuestion> Render(SynthCanvas c, Random random)
    {
        Dimension dimension = random.Pick(SynthContent.Dimensions);
        int rows = random.Next(2, Math.Min(10, (int)((c.Height - 70) / 22f)));
        int columns = random.Next(1, 4);
        string[] labels = random.PickDistinct(dimension.Labels, rows, dimension.Ordered);
        Measure[] measures = random.PickDistinct(SynthContent.Measures, columns, keepOrder: false);
        decimal[][] values = measures.Select(m => random.Values(m, rows)).ToArray();
        SKColor ink = random.Pick(SynthContent.Inks);
        SKColor header = SynthContent.Palette[random.Next(SynthContent.Palette.Length)].WithAlpha(40);
        string caption = $"{string.Join(" and ", measures.Select(m => m.Name).Take(2))} by {dimension.Name.ToLowerInvariant()}";
        float captionSize = c.Fit(caption, 16, c.Width - 24, FontWeight.Bold);
        c.Text("title", caption, 12, 12 + captionSize, captionSize, ink, FontWeight.Bold);

        float top = 26 + captionSize, rowHeight = Math.Min(26, (c.Height - top - 10) / (rows + 1));
        float textSize = Math.Min(12, rowHeight * 0.55f);
        float firstWidth = Math.Max(c.Measure(dimension.Name, textSize, FontWeight.Bold), labels.Max(l => c.Measure(l, textSize))) + 20;
        float width = (c.Width - 24 - firstWidth) / columns;
        string[] headers = measures.Select(SynthContent.AxisTitle).ToArray();
        c.Mark(null, new SKRect(12, top, c.Width - 12, top + rowHeight), header);
        Cell(c, "header", dimension.Name, 18, top, rowHeight, textSize, ink, FontWeight.Bold, SKTextAlign.Left, firstWidth - 8);
        for (int j = 0; j < columns; j++)
        {
            Cell(c, "header", headers[j], 12 + firstWidth + width * (j + 1) - 8, top, rowHeight, textSize, ink, FontWeight.Bold, SKTextAlign.Right, width - 10);
        }
        for (int i = 0; i < rows; i++)
        {
            float y = top + rowHeight * (i + 1);
            c.Line(12, y, c.Width - 12, y, new SKColor(0xCC, 0xCC, 0xCC));
            Cell(c, "row-label", labels[i], 18, y, rowHeight, textSize, ink, FontWeight.Regular, SKTextAlign.Left, firstWidth - 8);
            for (int j = 0; j < columns; j++)
            {
                Cell(c, "cell", SynthContent.Format(values[j][i], measures[j]), 12 + firstWidth + width * (j + 1) - 8, y, rowHeight, textSize, ink,
                    FontWeight.Regular, SKTextAlign.Right, width - 10, values[j][i]);
            }
        }
        c.Line(12, top + rowHeight * (rows + 1), c.Width - 12, top + rowHeight * (rows + 1), ink);

        int col = random.Next(columns);
        Measure m = measures[col];
        string what = m.Name.ToLowerInvariant();
        int k = random.Next(rows);
        bool highest = random.Next(2) == 0;
        int extreme = Array.IndexOf(values[col], highest ? values[col].Max() : values[col].Min());
        var pool = new List<SynthQuestion>
        {
            new($"What is the {what} of {labels[k]}?", SynthContent.Format(values[col][k], m), SynthCategory.ValueLookup),
            new($"Which {dimension.Name.ToLowerInvariant()} has the {(highest ? "highest" : "lowest")} {what}?", labels[extreme], SynthCategory.MaxMin),
            new($"How many rows does the table have?", rows.ToString(CultureInfo.InvariantCulture), SynthCategory.Count),
            new("What is the caption of the table?", caption, SynthCategory.ReadTitle),
        };
        if (rows >= 2)
        {
            int[] two = random.PickDistinct(Enumerable.Range(0, rows).ToArray(), 2, keepOrder: false);
            int winner = values[col][two[0]] > values[col][two[1]] ? two[0] : two[1];
            pool.Add(new($"Which has the higher {what}, {labels[two[0]]} or {labels[two[1]]}?", labels[winner], SynthCategory.Compare));
        }
        if (!m.Percent)
        {
            pool.Add(new($"What is the total {what} of all rows?", SynthContent.Format(values[col].Sum(), m), SynthCategory.SumTotal));
        }
        return pool.OrderBy(_ => random.Next()).Take(4).ToList();
    }

    private static void Cell(SynthCanvas c, string role, string text, float x, float rowTop, float rowHeight, float size, SKColor ink, FontWeight weight,
        SKTextAlign align, float maxWidth, decimal? value = null) =>
        c.Text(role, text, x, rowTop + rowHeight / 2 + size * 0.36f, c.Fit(text, size, maxWidth, weight), ink, weight, align, value);
}
