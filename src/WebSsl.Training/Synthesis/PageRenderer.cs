using System.Globalization;
using SkiaSharp;

namespace WebSsl.Training.Synthesis;

/// <summary>
/// Full document pages with small text: a form of many fields, a table of line items, (on full-size pages) two columns
/// of body text, and a total. Sizes are in points, drawn at <c>pixelsPerPoint</c>: an A4 page at 150 dpi is 1240 x 1754
/// pixels with 10-point text 21 pixels high, which one 224-pixel view shrinks to under 3 — the case tiles exist for.
/// </summary>
/// <remarks>
/// The demo profile draws the same kinds of page at 224 x 336 (1.2 pixels per point), where each 112-pixel tile holds
/// text as large as the demo's 112-pixel documents and one 112-pixel view of the whole page shrinks it three times.
/// There each document type has its own fixed field order (as a real form does), values come from small vocabularies of
/// equal-length words (so the length of a blur never gives the answer away), and every page gets all its questions.
/// </remarks>
internal static class PageRenderer
{
    /// <summary>Demo pages: 2 x 3 tiles of 112 pixels.</summary>
    public const int DemoWidth = 224, DemoHeight = 336;

    /// <summary>Full-size pages: A4 at 150 dpi.</summary>
    public const int PageWidth = 1240, PageHeight = 1754;

    public const float DemoPixelsPerPoint = 1.2f;

    /// <summary>What a page's words are drawn from.</summary>
    private sealed record Vocabulary(string[] Titles, (string Key, string[] Values)[] Fields, string[] Items);

    /// <summary>Full-size pages: realistic field values, each field's of one length.</summary>
    private static readonly Vocabulary Full = new(
        ["Invoice", "Purchase Order", "Claim Form", "Permit", "Delivery Note"],
        [
            ("Status", ["Paid", "Open", "Void", "Late", "Held"]),
            ("Currency", ["USD", "EUR", "GBP", "CHF", "JPY"]),
            ("Dept", ["Sales", "Legal", "Admin", "Audit"]),
            ("Carrier", ["DHL", "UPS", "TNT", "GLS"]),
            ("Priority", ["Low", "Mid", "Top"]),
            ("Batch", ["1", "2", "3", "4", "5", "6", "7", "8", "9"]),
        ],
        SynthContent.Items);

    /// <summary>
    /// Demo pages: only words the demo assistant's LLM already has (its vocabulary is made from the words of the demo's
    /// questions and answers: chart titles, document types, letters, numbers), so a model tuned from it learns to read
    /// pages, not to spell new words; each field's values of one length.
    /// </summary>
    private static readonly Vocabulary Demo = new(
        DemoRenderer.DocumentTypes,
        [
            ("Team", ["Profit", "Orders", "Energy"]),
            ("Code", ["A", "B", "C", "D", "E", "F"]),
            ("Batch", ["1", "2", "3", "4", "5", "6", "7", "8", "9"]),
            ("Desk", ["Visitors", "Rainfall"]),
            ("Zone", ["A", "B", "C", "D", "E", "F"]),
            ("Level", ["1", "2", "3", "4", "5", "6", "7", "8", "9"]),
        ],
        ["A", "B", "C", "D", "E", "F"]);

    /// <summary>Extra fields of full-size pages (long free-text values, as real forms have).</summary>
    private static readonly string[] FreeFields = ["Reference", "Date", "Customer", "Address", "Account", "Contact", "Due date", "Project"];

    /// <summary>Draws one page on <paramref name="c"/> and returns its questions with exact answers.</summary>
    public static List<SynthQuestion> Page(SynthCanvas c, Random random, bool demo)
    {
        float pt = demo ? DemoPixelsPerPoint : c.Width / 595f; // 595 points: the width of A4
        SKColor ink = random.Pick(SynthContent.Inks);
        float margin = (demo ? 6 : 48) * pt;
        Vocabulary words = demo ? Demo : Full;
        int type = random.Next(words.Titles.Length);
        string title = words.Titles[type];
        var questions = new List<SynthQuestion>();

        float y = margin + 15 * pt;
        c.Text("title", title, margin, y, 15 * pt, ink, FontWeight.Bold);
        questions.Add(new("What type of document is this?", title, SynthCategory.ReadTitle));
        if (!demo)
        {
            c.Text("header", random.Pick(SynthContent.Companies), c.Width - margin, y, 10 * pt, ink, FontWeight.Medium, SKTextAlign.Right);
        }
        y += 6 * pt;
        c.Line(margin, y, c.Width - margin, y, ink, Math.Max(1, pt * 0.6f));

        y = Form(c, random, ink, demo, pt, margin, y + 6 * pt, words, type, questions);
        y = Table(c, random, ink, demo, pt, margin, y + 8 * pt, words, questions);
        if (!demo)
        {
            y = Columns(c, random, ink, pt, margin, y + 14 * pt, questions);
        }

        int total = demo ? random.Next(10, 100) : 0;
        decimal money = demo ? total : random.Money(100, 99000);
        string totalText = demo ? total.ToString(CultureInfo.InvariantCulture) : SynthContent.Format(money, 2);
        float bottom = c.Height - margin;
        c.Line(margin, bottom - 16 * pt, c.Width - margin, bottom - 16 * pt, ink, Math.Max(1, pt * 0.6f));
        c.Text("field-key", "Total", margin, bottom, 11 * pt, ink, FontWeight.Bold);
        c.Text("total", totalText, c.Width - margin, bottom, 12 * pt, ink, FontWeight.Bold, SKTextAlign.Right, money);
        questions.Add(new("What is the total?", totalText, SynthCategory.SumTotal));
        return demo ? questions : questions.OrderBy(_ => random.Next()).Take(6).ToList();
    }

    /// <summary>
    /// Fields as a grid of key-over-value cells: on demo pages two columns in an order fixed by the document type (as a
    /// form's layout is); on full pages three columns, shuffled, with free-text fields among them.
    /// </summary>
    private static float Form(SynthCanvas c, Random random, SKColor ink, bool demo, float pt, float margin, float top, Vocabulary words, int type,
        List<SynthQuestion> questions)
    {
        var layout = new Random(type); // the type's own field order, the same on every page of that type
        List<(string Key, string Value)> fields = words.Fields.OrderBy(_ => layout.Next()).Select(f => (f.Key, random.Pick(f.Values))).ToList();
        if (!demo)
        {
            foreach (string key in random.PickDistinct(FreeFields, random.Next(4, FreeFields.Length + 1), keepOrder: false))
            {
                fields.Add((key, FreeValue(key, random)));
            }
            fields = fields.OrderBy(_ => random.Next()).ToList();
        }
        int columns = demo ? 2 : 3;
        float cellWidth = (c.Width - 2 * margin) / columns, rowHeight = 24 * pt;
        for (int i = 0; i < fields.Count; i++)
        {
            float x = margin + i % columns * cellWidth, baseline = top + i / columns * rowHeight;
            c.Text("field-key", fields[i].Key, x, baseline + 8 * pt, 7.5f * pt, ink, FontWeight.Light);
            c.Text("field", fields[i].Value, x, baseline + 20 * pt, c.Fit(fields[i].Value, 11 * pt, cellWidth - 4 * pt, FontWeight.Bold), ink, FontWeight.Bold);
        }
        // Every coded field is asked about on demo pages; two fields on full pages.
        IEnumerable<(string Key, string Value)> asked = demo ? fields.Where(f => words.Fields.Any(w => w.Key == f.Key)) : random.PickDistinct(fields, 2, keepOrder: false);
        foreach ((string key, string value) in asked)
        {
            questions.Add(new($"What is the {key.ToLowerInvariant()}?", value, SynthCategory.ExtractField));
        }
        return top + (fields.Count + columns - 1) / columns * rowHeight;
    }

    private static string FreeValue(string key, Random random) => key switch
    {
        "Reference" => random.Code("REF"),
        "Date" or "Due date" => random.Date(),
        "Customer" or "Contact" => random.Pick(SynthContent.People),
        "Address" => random.Pick(SynthContent.Streets),
        "Account" => random.Code("AC"),
        _ => random.Code("PRJ"),
    };

    /// <summary>Line items: a name and a quantity per row (demo) or also a unit price and an amount (full pages).</summary>
    private static float Table(SynthCanvas c, Random random, SKColor ink, bool demo, float pt, float margin, float top, Vocabulary words, List<SynthQuestion> questions)
    {
        float row = (demo ? 13 : 16) * pt, size = (demo ? 9.5f : 9) * pt;
        int count = demo ? random.Next(2, 6) : random.Next(4, 13);
        string[] items = random.PickDistinct(words.Items, Math.Min(count, words.Items.Length), keepOrder: demo);
        count = items.Length;
        int[] quantities = Enumerable.Range(0, count).Select(_ => random.Next(1, 10)).ToArray();
        float right = c.Width - margin;
        float y = top + row;
        c.Text("table-header", "Item", margin, y, size, ink, FontWeight.Bold);
        c.Text("table-header", "Qty", demo ? right : margin + (right - margin) * 0.55f, y, size, ink, FontWeight.Bold, SKTextAlign.Right);
        if (!demo)
        {
            c.Text("table-header", "Unit price", margin + (right - margin) * 0.77f, y, size, ink, FontWeight.Bold, SKTextAlign.Right);
            c.Text("table-header", "Amount", right, y, size, ink, FontWeight.Bold, SKTextAlign.Right);
        }
        c.Line(margin, y + 3 * pt, right, y + 3 * pt, ink);
        var amounts = new decimal[count];
        for (int i = 0; i < count; i++)
        {
            y += row;
            c.Text("cell", items[i], margin, y, size, ink);
            c.Text("cell", quantities[i].ToString(CultureInfo.InvariantCulture), demo ? right : margin + (right - margin) * 0.55f, y, size, ink,
                FontWeight.Regular, SKTextAlign.Right, quantities[i]);
            if (!demo)
            {
                decimal price = random.Money(1, 400);
                amounts[i] = price * quantities[i];
                c.Text("cell", SynthContent.Format(price, 2), margin + (right - margin) * 0.77f, y, size, ink, FontWeight.Regular, SKTextAlign.Right, price);
                c.Text("cell", SynthContent.Format(amounts[i], 2), right, y, size, ink, FontWeight.Regular, SKTextAlign.Right, amounts[i]);
            }
        }
        int k = random.Next(count);
        questions.Add(new("How many items are in the table?", count.ToString(CultureInfo.InvariantCulture), SynthCategory.Count));
        questions.Add(new($"What is the quantity of {(demo ? items[k] : items[k].ToLowerInvariant())}?", quantities[k].ToString(CultureInfo.InvariantCulture), SynthCategory.ValueLookup));
        if (!demo)
        {
            questions.Add(new($"What is the amount for {items[k].ToLowerInvariant()}?", SynthContent.Format(amounts[k], 2), SynthCategory.ValueLookup));
        }
        return y + 4 * pt;
    }

    /// <summary>Two columns of body text down to the total's rule; asks for one line.</summary>
    private static float Columns(SynthCanvas c, Random random, SKColor ink, float pt, float margin, float top, List<SynthQuestion> questions)
    {
        float gap = 18 * pt, width = (c.Width - 2 * margin - gap) / 2, line = 13 * pt, size = 9 * pt;
        float bottom = c.Height - margin - 30 * pt;
        var columns = new List<string>[] { [], [] };
        for (int column = 0; column < 2; column++)
        {
            float x = margin + column * (width + gap);
            for (float y = top + line; y < bottom; y += line)
            {
                string sentence = random.Sentence();
                columns[column].Add(sentence);
                c.Text("line", sentence, x, y, c.Fit(sentence, size, width, minimum: 5 * pt), ink);
            }
        }
        if (columns[0].Count > 0)
        {
            int column = random.Next(2), index = random.Next(Math.Min(3, columns[column].Count));
            string which = index switch { 0 => "first", 1 => "second", _ => "third" };
            questions.Add(new($"What does the {which} line of the {(column == 0 ? "left" : "right")} column say?", columns[column][index], SynthCategory.ReadLine));
        }
        return bottom;
    }
}
