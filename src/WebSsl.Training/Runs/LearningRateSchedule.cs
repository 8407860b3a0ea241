namespace WebSsl.Training.Runs;

/// <summary>
/// Linear warmup then cosine decay to zero, exactly transformers' get_cosine_schedule_with_warmup (which LLaVA uses):
/// the k-th update (k from 0) uses Peak * k / warmup during warmup, then Peak * 0.5 * (1 + cos(pi * progress)).
/// </summary>
public sealed record LearningRateSchedule(double Peak, int TotalSteps, double WarmupRatio)
{
    public int WarmupSteps => (int)Math.Ceiling(TotalSteps * WarmupRatio);

    /// <summary>The rate for optimizer step <paramref name="step"/> (1-based).</summary>
    public double At(int step)
    {
        int k = step - 1;
        if (k < WarmupSteps)
        {
            return Peak * k / Math.Max(1, WarmupSteps);
        }
        double progress = (double)(k - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return Peak * Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
    }
}
