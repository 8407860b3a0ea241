using WebSsl.Training.Evaluation;
using WebSsl.Training.Training;

namespace WebSsl.Training.Tests.Evaluation;

public sealed class AnswerMetricsTests
{
    [Theory]
    [InlineData("42", "42", true)]
    [InlineData("  The Total.", "the total", true)]
    [InlineData("the  total", "the total", true)]
    [InlineData("42.0", "42", false)]
    public void Exact_match_normalizes_case_space_and_a_final_period(string prediction, string target, bool expected) =>
        Assert.Equal(expected, AnswerMetrics.ExactMatch(prediction, target));

    [Theory]
    [InlineData("104", "100", true)]     // 4% off
    [InlineData("106", "100", false)]    // 6% off
    [InlineData("40%", "0.41", true)]    // 0.40 vs 0.41: 2.4% off
    [InlineData("0", "0", true)]         // a zero target falls back to string equality
    [InlineData("0.0", "0", false)]
    [InlineData("Yes", "yes", true)]
    [InlineData("1,000", "1000", false)] // no thousands separators, as in ChartQA's evaluation
    public void Relaxed_accuracy_follows_ChartQAs_definition(string prediction, string target, bool expected) =>
        Assert.Equal(expected, AnswerMetrics.RelaxedCorrect(prediction, target));

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
