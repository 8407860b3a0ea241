using WebSsl.Training.Evaluation;
using WebSsl.Training.Runs;

namespace WebSsl.Training.Tests.Evaluation;

public sealed class AnswerScoringTests
{
    [Theory]
    [InlineData("42", "42", true)]
    [InlineData("  The Total.", "the total", true)]
    [InlineData("the  total", "the total", true)]
    [InlineData("42.0", "42", false)]
    public void Exact_match_normalizes_case_space_and_a_final_period(string prediction, string target, bool expected) =>
        Assert.Equal(expected, AnswerScoring.ExactMatch(prediction, target));

    [Theory]
    [InlineData("104", "100", true)]     // 4% off
    [InlineData("106", "100", false)]    // 6% off
    [InlineData("40%", "0.41", true)]    // 0.40 vs 0.41: 2.4% off
    [InlineData("0", "0", true)]         // a zero target falls back to string equality
    [InlineData("0.0", "0", false)]
    [InlineData("Yes", "yes", true)]
    [InlineData("1,000", "1000", false)] // no thousands separators, as in ChartQA's evaluation
    public void Relaxed_accuracy_follows_ChartQAs_definition(string prediction, string target, bool expected) =>
        Assert.Equal(expected, AnswerScoring.RelaxedCorrect(prediction, target));

    [Theory]
    [InlineData("receive", "receive", 1.0)]
    [InlineData("recieve", "receive", 1 - 2.0 / 7)]   // two substitutions in seven characters
    [InlineData("  New   York ", "new york", 1.0)]   // case and whitespace do not count
    [InlineData("abcd", "abxy", 0.0)]                 // NL = 0.5 is not below the threshold
    [InlineData("abc", "xyz", 0.0)]
    public void Anls_is_one_minus_the_normalized_edit_distance_above_the_threshold(string prediction, string answer, double expected) =>
        Assert.Equal(expected, AnswerScoring.Anls(prediction, [answer]), 6);

    [Fact]
    public void Anls_takes_the_best_of_several_answers() =>
        Assert.Equal(1 - 1.0 / 3, AnswerScoring.Anls("cat", ["dog", "cap"]), 6);

    [Theory]
    [InlineData("Two", 1.0)]      // "two" -> "2": three of ten annotators said 2
    [InlineData("3", 1.0 / 3)]    // one annotator
    [InlineData("five", 0.0)]
    public void Vqa_accuracy_is_matches_over_three_capped_at_one(string prediction, double expected)
    {
        string[] answers = ["2", "2", "two", "3", "4", "4", "4", "4", "8", "1"];
        Assert.Equal(expected, AnswerScoring.VqaAccuracy(prediction, answers), 6);
    }

    [Theory]
    [InlineData("The dog", "dog")]
    [InlineData("yes.", "yes")]
    [InlineData("1,000", "1000")]
    [InlineData("3.5", "3.5")]
    [InlineData("red-white", "red white")]
    [InlineData("dont", "don't")]
    public void Vqa_normalization_follows_the_official_evaluation(string answer, string normalized) =>
        Assert.Equal(normalized, AnswerScoring.VqaNormalize(answer));

    [Theory]
    [InlineData("The word is HELLO world", "hello", true)]
    [InlineData("The word is HELLO world", "help", false)]
    [InlineData("anything", "", false)]
    public void Contains_is_ocrbench_substring_matching(string prediction, string answer, bool expected) =>
        Assert.Equal(expected, AnswerScoring.Contains(prediction, answer));

    [Fact]
    public void Scores_take_the_best_answer_for_every_metric()
    {
        string[] answers = ["Paris", "12.5%"];
        Assert.Equal(1, AnswerScoring.Score(EvalMetric.ExactMatch, "paris", answers));
        Assert.Equal(1, AnswerScoring.Score(EvalMetric.RelaxedAccuracy, "12.9%", answers));
        Assert.Equal(1, AnswerScoring.Score(EvalMetric.Contains, "It is Paris.", answers));
        Assert.Equal(0, AnswerScoring.Score(EvalMetric.ExactMatch, "London", answers));
        Assert.Equal(0, AnswerScoring.Score(EvalMetric.Anls, "anything", []));
        Assert.Equal(EvalMetric.Anls, AnswerScoring.Parse("ANLS"));
        Assert.Throws<BadInputException>(() => AnswerScoring.Parse("bleu"));
    }

    [Fact]
    public void The_rate_warms_up_linearly_then_decays_along_a_cosine_to_zero()
    {
        var schedule = new LearningRateSchedule(1e-3, TotalSteps: 100, WarmupRatio: 0.03);
        Assert.Equal(3, schedule.WarmupSteps);
        Assert.Equal(0, schedule.At(1));
        Assert.Equal(1e-3 / 3, schedule.At(2), 12);
        Assert.Equal(1e-3, schedule.At(4), 12);
        Assert.Equal(1e-3 * 0.5 * (1 + Math.Cos(Math.PI * 48.0 / 97)), schedule.At(52), 12);
        Assert.True(schedule.At(100) < 1e-6);
    }
}
