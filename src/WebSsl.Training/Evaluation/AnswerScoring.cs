using System.Globalization;
using System.Text.RegularExpressions;
using Quickenshtein;

namespace WebSsl.Training.Evaluation;

/// <summary>The answer metrics the field quotes, each as its benchmark's official evaluation computes it.</summary>
public enum EvalMetric
{
    /// <summary>ChartQA: numbers within 5% relative error, otherwise case-insensitive exact match.</summary>
    RelaxedAccuracy,

    /// <summary>DocVQA: average normalized Levenshtein similarity, 0 below the 0.5 threshold.</summary>
    Anls,

    /// <summary>TextVQA / VQAv2: min(matching human answers / 3, 1) after VQA answer normalization.</summary>
    VqaAccuracy,

    /// <summary>Exact match after trimming, lower-casing and collapsing whitespace.</summary>
    ExactMatch,

    /// <summary>OCRBench: the answer appears in the prediction (case-insensitive).</summary>
    Contains,
}

/// <summary>Answer scoring shared by training validation and evaluation. Every score is in [0, 1]; several answers take the best.</summary>
public static partial class AnswerScoring
{
    public static string Name(EvalMetric metric) => metric switch
    {
        EvalMetric.RelaxedAccuracy => "relaxed-accuracy",
        EvalMetric.Anls => "anls",
        EvalMetric.VqaAccuracy => "vqa-accuracy",
        EvalMetric.ExactMatch => "exact-match",
        _ => "contains",
    };

    public static EvalMetric Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "relaxed" or "relaxed-accuracy" or "chartqa" => EvalMetric.RelaxedAccuracy,
        "anls" => EvalMetric.Anls,
        "vqa" or "vqa-accuracy" => EvalMetric.VqaAccuracy,
        "exact" or "exact-match" => EvalMetric.ExactMatch,
        "contains" or "ocrbench" => EvalMetric.Contains,
        _ => throw new BadInputException($"metric '{text}' is not known; use relaxed, anls, vqa, exact or contains."),
    };

    public static double Score(EvalMetric metric, string prediction, IReadOnlyList<string> answers) => answers.Count == 0 ? 0 : metric switch
    {
        EvalMetric.RelaxedAccuracy => answers.Any(a => RelaxedCorrect(prediction, a)) ? 1 : 0,
        EvalMetric.Anls => Anls(prediction, answers),
        EvalMetric.VqaAccuracy => VqaAccuracy(prediction, answers),
        EvalMetric.ExactMatch => answers.Any(a => ExactMatch(prediction, a)) ? 1 : 0,
        _ => answers.Any(a => Contains(prediction, a)) ? 1 : 0,
    };

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

    /// <summary>
    /// ANLS for one question (DocVQA's official script): answers and prediction lower-cased with whitespace collapsed;
    /// for each answer NL = Levenshtein / max(lengths); the score is max over answers of (1 - NL) when NL &lt; 0.5, else 0.
    /// </summary>
    public static double Anls(string prediction, IReadOnlyList<string> answers, double threshold = 0.5)
    {
        string p = CollapseLower(prediction);
        double best = 0;
        foreach (string answer in answers)
        {
            string a = CollapseLower(answer);
            int length = Math.Max(a.Length, p.Length);
            double nl = length == 0 ? 0 : Levenshtein.GetDistance(p, a) / (double)length;
            best = Math.Max(best, nl < threshold ? 1 - nl : 0);
        }
        return best;
    }

    /// <summary>
    /// VQA accuracy as the issue of this harness defines it: min(number of human answers equal to the prediction / 3, 1),
    /// after the VQA evaluation's answer normalization (lower case, punctuation, number words to digits, articles,
    /// contractions). The official script also averages over the 10 leave-one-out subsets of 10 answers, which changes
    /// scores by at most a few tenths of a point.
    /// </summary>
    public static double VqaAccuracy(string prediction, IReadOnlyList<string> answers)
    {
        string p = VqaNormalize(prediction);
        int matches = answers.Count(a => VqaNormalize(a) == p);
        return Math.Min(matches / 3.0, 1.0);
    }

    /// <summary>OCRBench: the answer (lower-cased, trimmed, newlines as spaces) is a substring of the prediction (the same).</summary>
    public static bool Contains(string prediction, string answer, bool ignoreSpaces = false)
    {
        string Clean(string s)
        {
            s = s.Trim().ToLowerInvariant().Replace('\n', ' ');
            return ignoreSpaces ? s.Replace(" ", "", StringComparison.Ordinal) : s;
        }
        string a = Clean(answer);
        return a.Length > 0 && Clean(prediction).Contains(a, StringComparison.Ordinal);
    }

    private static readonly Dictionary<string, string> NumberWords = new(StringComparer.Ordinal)
    {
        ["none"] = "0", ["zero"] = "0", ["one"] = "1", ["two"] = "2", ["three"] = "3", ["four"] = "4", ["five"] = "5",
        ["six"] = "6", ["seven"] = "7", ["eight"] = "8", ["nine"] = "9", ["ten"] = "10",
    };

    private static readonly HashSet<string> Articles = new(StringComparer.Ordinal) { "a", "an", "the" };

    private static readonly Dictionary<string, string> Contractions = new(StringComparer.Ordinal)
    {
        ["dont"] = "don't", ["doesnt"] = "doesn't", ["isnt"] = "isn't", ["arent"] = "aren't", ["cant"] = "can't", ["wont"] = "won't",
        ["didnt"] = "didn't", ["wasnt"] = "wasn't", ["werent"] = "weren't", ["hasnt"] = "hasn't", ["havent"] = "haven't", ["youre"] = "you're",
        ["im"] = "i'm", ["ive"] = "i've", ["thats"] = "that's", ["whats"] = "what's", ["shouldnt"] = "shouldn't", ["wouldnt"] = "wouldn't",
    };

    private static readonly char[] VqaPunctuation = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];

    /// <summary>
    /// The VQA evaluation's answer processing, step for step as its processPunctuation and processDigitArticle: each
    /// punctuation mark is deleted where it touches a space (or anywhere, when the text has a digit,digit comma) and
    /// replaced by a space elsewhere; periods not followed by a digit go; then lower case, number words to digits, articles
    /// dropped, common contractions restored.
    /// </summary>
    public static string VqaNormalize(string answer)
    {
        string input = answer.Replace('\n', ' ').Replace('\t', ' ').Trim();
        string text = input;
        bool commaNumber = CommaInNumber().IsMatch(input);
        foreach (char p in VqaPunctuation)
        {
            bool touchesSpace = input.Contains($"{p} ", StringComparison.Ordinal) || input.Contains($" {p}", StringComparison.Ordinal);
            text = text.Replace(p.ToString(), touchesSpace || commaNumber ? "" : " ", StringComparison.Ordinal);
        }
        text = PeriodNotBeforeDigit().Replace(text, "");
        var words = new List<string>();
        foreach (string word in text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string w = NumberWords.GetValueOrDefault(word, word);
            if (!Articles.Contains(w))
            {
                words.Add(Contractions.GetValueOrDefault(w, w));
            }
        }
        return string.Join(' ', words);
    }

    private static double? ToFloat(string text)
    {
        bool percent = text.EndsWith('%');
        string number = percent ? text.TrimEnd('%') : text;
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? percent ? value / 100.0 : value
            : null;
    }

    private static string CollapseLower(string text) => string.Join(' ', text.Trim().ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string Normalize(string text) => Whitespace().Replace(text.Trim().ToLowerInvariant(), " ").TrimEnd('.').Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"(\d)(,)(\d)")]
    private static partial Regex CommaInNumber();

    [GeneratedRegex(@"(?!<=\d)(\.)(?!\d)")]
    private static partial Regex PeriodNotBeforeDigit();
}
