using System.Globalization;
using SkiaSharp;

namespace WebSsl.Training.Synthesis;

/// <summary>Business documents (invoice, order, note...) and shop receipts: text lines, key-value fields and totals.</summary>
internal static class DocumentRenderer
{
    public static List<SynthQuestion> Document(SynthCanvas c, Random random)
    {
        SKColor ink = random.Pick(SynthContent.Inks);
        float margin = 24 + random.Next(12);
        string title = random.Pick(SynthContent.DocumentTitles);
        string company = random.Pick(SynthContent.Companies);
        float size = c.Fit(title, 22, c.Width - 2 * margin, FontWeight.Bold);
        float y = margin + size;
        c.Text("title", title, margin, y, size, ink, FontWeight.Bold);
        y += 18;
        c.Text("header", company, margin, y, 12, ink, FontWeight.Medium);
        y += 16;
        c.Text("header", random.Pick(SynthContent.Streets), margin, y, 11, ink, FontWeight.Light);
        y += 24;

        string codeLabel = title switch { "Invoice" => "Invoice No.", "Purchase Order" => "Order No.", "Quotation" => "Quote No.", _ => "Reference" };
        var fields = new List<(string Key, string Value)>
        {
            (codeLabel, random.Code(title[..2].ToUpperInvariant())),
            ("Date", random.Date()),
            ("Customer", random.Pick(SynthContent.People)),
        };
        if (random.Next(2) == 0)
        {
            fields.Add(("Due date", random.Date()));
        }
        float keyWidth = fields.Max(f => c.Measure(f.Key + ":", 12, FontWeight.Medium)) + 10;
        foreach (var (key, value) in fields)
        {
            c.Text("field-key", key + ":", margin, y, 12, ink, FontWeight.Medium);
            c.Text("field", value, margin + keyWidth, y, c.Fit(value, 12, c.Width - 2 * margin - keyWidth), ink);
            y += 19;
        }
        y += 10;
        int lineCount = random.Next(2, 6);
        var lines = new List<string>();
        for (int i = 0; i < lineCount && y < c.Height - 60; i++)
        {
            string sentence = random.Sentence();
            lines.Add(sentence);
            c.Text("line", sentence, margin, y, c.Fit(sentence, 12, c.Width - 2 * margin), ink);
            y += 19;
        }
        decimal total = random.Money(50, 9000);
        y = Math.Max(y + 16, c.Height - 36);
        c.Line(margin, y - 18, c.Width - margin, y - 18, ink);
        string totalText = SynthContent.Format(total, 2);
        c.Text("field-key", "Total:", margin, y, 14, ink, FontWeight.Bold);
        c.Text("total", totalText, c.Width - margin, y, 14, ink, FontWeight.Bold, SKTextAlign.Right, total);

        int which = random.Next(fields.Count);
        int line = random.Next(lines.Count);
        var pool = new List<SynthQuestion>
        {
            new("What type of document is this?", title, SynthCategory.ReadTitle),
            new($"What is the {fields[which].Key.TrimEnd('.').ToLowerInvariant()}?", fields[which].Value, SynthCategory.ExtractField),
            new("Which company issued the document?", company, SynthCategory.ExtractField),
            new($"What does the {Ordinal(line)} line of text say?", lines[line], SynthCategory.ReadLine),
            new("What is the total amount?", totalText, SynthCategory.SumTotal),
        };
        return pool.OrderBy(_ => random.Next()).Take(4).ToList();
    }

    public static List<SynthQuestion> Receipt(SynthCanvas c, Random random)
    {
        SKColor ink = random.Pick(SynthContent.Inks);
        float margin = 16;
        string store = random.Pick(SynthContent.Companies);
        float size = c.Fit(store, 17, c.Width - 2 * margin, FontWeight.Bold);
        float y = margin + size;
        c.Text("title", store, c.Width / 2f, y, size, ink, FontWeight.Bold, SKTextAlign.Center);
        y += 16;
        c.Text("header", random.Pick(SynthContent.Streets), c.Width / 2f, y, 10, ink, FontWeight.Light, SKTextAlign.Center);
        y += 18;
        string date = random.Date();
        string receiptNo = random.Code("R");
        c.Text("field", $"Date: {date}", margin, y, 11, ink);
        c.Text("field", $"No. {receiptNo}", c.Width - margin, y, 11, ink, FontWeight.Regular, SKTextAlign.Right);
        y += 10;
        Dashes(c, margin, y, ink);
        y += 18;
        int count = random.Next(2, Math.Max(3, Math.Min(9, (int)((c.Height - y - 90) / 18))));
        string[] items = random.PickDistinct(SynthContent.Items, count, keepOrder: false);
        decimal[] prices = Distinct(random, count);
        for (int i = 0; i < count; i++)
        {
            c.Text("item", items[i], margin, y, c.Fit(items[i], 11, c.Width * 0.6f), ink);
            c.Text("price", SynthContent.Format(prices[i], 2), c.Width - margin, y, 11, ink, FontWeight.Regular, SKTextAlign.Right, prices[i]);
            y += 18;
        }
        Dashes(c, margin, y - 8, ink);
        y += 10;
        decimal subtotal = prices.Sum();
        decimal tax = Math.Round(subtotal * (decimal)(0.05 + 0.01 * random.Next(0, 16)), 2, MidpointRounding.AwayFromZero);
        decimal total = subtotal + tax;
        c.Text("field-key", "Subtotal", margin, y, 11, ink);
        c.Text("subtotal", SynthContent.Format(subtotal, 2), c.Width - margin, y, 11, ink, FontWeight.Regular, SKTextAlign.Right, subtotal);
        y += 17;
        c.Text("field-key", "Tax", margin, y, 11, ink);
        c.Text("tax", SynthContent.Format(tax, 2), c.Width - margin, y, 11, ink, FontWeight.Regular, SKTextAlign.Right, tax);
        y += 20;
        c.Text("field-key", "TOTAL", margin, y, 14, ink, FontWeight.Bold);
        c.Text("total", SynthContent.Format(total, 2), c.Width - margin, y, 14, ink, FontWeight.Bold, SKTextAlign.Right, total);
        y += 26;
        c.Text("footer", "Thank you for your visit", c.Width / 2f, Math.Min(y, c.Height - 8), 10, ink, FontWeight.Light, SKTextAlign.Center);

        int k = random.Next(count);
        int priciest = Array.IndexOf(prices, prices.Max());
        var pool = new List<SynthQuestion>
        {
            new("What is the name of the store?", store, SynthCategory.ExtractField),
            new("What is the date on the receipt?", date, SynthCategory.ExtractField),
            new($"How much did the {items[k].ToLowerInvariant()} cost?", SynthContent.Format(prices[k], 2), SynthCategory.ValueLookup),
            new("How many items were bought?", count.ToString(CultureInfo.InvariantCulture), SynthCategory.Count),
            new("Which item was the most expensive?", items[priciest], SynthCategory.MaxMin),
            new("What is the total?", SynthContent.Format(total, 2), SynthCategory.SumTotal),
        };
        return pool.OrderBy(_ => random.Next()).Take(4).ToList();
    }

    private static decimal[] Distinct(Random random, int count)
    {
        var prices = new List<decimal>();
        while (prices.Count < count)
        {
            decimal p = random.Money(0.5m, 24m);
            if (!prices.Contains(p))
            {
                prices.Add(p);
            }
        }
        return prices.ToArray();
    }

    private static void Dashes(SynthCanvas c, float margin, float y, SKColor ink)
    {
        using var paint = new SKPaint { Color = ink, StrokeWidth = 1, PathEffect = SKPathEffect.CreateDash([4, 3], 0), Style = SKPaintStyle.Stroke };
        c.Canvas.DrawLine(margin, y, c.Width - margin, y, paint);
    }

    private static string Ordinal(int index) => index switch { 0 => "first", 1 => "second", 2 => "third", 3 => "fourth", _ => "fifth" };
}
