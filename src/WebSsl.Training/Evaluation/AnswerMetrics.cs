using System.Globalization;
using System.Text.RegularExpressions;

namespace WebSsl.Training.Evaluation;

/// <summary>Answer scoring shared by training validation and evaluation.</summary>
public static partial class AnswerMetrics
{
    /// <summary>Exact match after trimming, lower-casing, collapsing whitespace and dropping a trailing period.</summary>
    public static bool ExactMatch(string prediction, string target) => Normalize(prediction) == Normalize(target);

    /// <summary>
    /// ChartQA's relaxed correctness (pix2struct's implementation): when both parse as numbers ("12.5", "40%" = 0.40) and the
    /// target is not zero, correct within 5% relative error; otherwise a case-insensitive exact match.
    /// </summary>
    public static bool RelaxedCorrect(string prediction, string target, double maxRelativeChange = 0.05)
    {
        double? p = ToFloat(prediction.Trim()), t = ToFloat(target.Trim());
        if (p is double predicted && t is double expected && expected != 0)
        {
            return Math.Abs(predicted - expected) / Math.Abs(expected) <= maxRelativeChange;
        }
        return string.Equals(prediction.Trim(), target.Trim(), StringComparison.OrdinalIgnoreCase);
    }

    private static double? ToFloat(string text)
    {
        bool percent = text.EndsWith('%');
        string number = percent ? text.TrimEnd('%') : text;
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? percent ? value / 100.0 : value
            : null;
    }

    private static string Normalize(string text) => Whitespace().Replace(text.Trim().ToLowerInvariant(), " ").TrimEnd('.').Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
