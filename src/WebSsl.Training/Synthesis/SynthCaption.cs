using System.Globalization;

namespace WebSsl.Training.Synthesis;

/// <summary>
/// A transcription of everything an image shows, built from its recorded layout: the title, each mark's label and value
/// in drawing order, the number of text lines and the total. "Sales. A 8, B 3, C 9." / "Receipt. 3 lines. Total 47."
/// Used as a dense training target (every token depends on the image), never as an evaluation question.
/// </summary>
public static class SynthCaption
{
    public const string Question = "Describe the image.";
    public const string Category = "caption";

    public static string Of(SyntheticImage image)
    {
        var parts = new List<string>();
        string? title = image.Layout.FirstOrDefault(e => e.Role == "title")?.Text;
        if (title is not null)
        {
            parts.Add(title);
        }
        var marks = image.Layout.Where(e => e.Role is "bar" or "point" or "slice" && e.Value is not null && e.Text.Length > 0).ToList();
        if (marks.Count > 0)
        {
            parts.Add(string.Join(", ", marks.Select(m => $"{m.Text} {Number(m.Value!.Value)}")));
        }
        if (image.Kind == SynthKind.Page)
        {
            // A page's form: each key with its value, in reading order.
            IEnumerable<string> keys = image.Layout.Where(e => e.Role == "field-key").Select(e => e.Text);
            parts.Add(string.Join(", ", keys.Zip(image.Layout.Where(e => e.Role == "field"), (key, value) => $"{key} {value.Text}")));
            parts.Add($"{image.Layout.Count(e => e.Role == "cell" && e.Value is null)} items");
        }
        int lines = image.Layout.Count(e => e.Role == "line");
        if (lines > 0)
        {
            parts.Add($"{lines} lines");
        }
        if (image.Layout.FirstOrDefault(e => e.Role == "total") is { } total)
        {
            parts.Add($"Total {total.Text}");
        }
        return string.Join(". ", parts) + ".";
    }

    private static string Number(decimal value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
