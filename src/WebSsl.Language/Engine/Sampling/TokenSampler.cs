using LLama;
using LLama.Native;
using LLama.Sampling;
using WebSsl.Language.Engine.Scheduling;

namespace WebSsl.Language.Engine.Sampling;

/// <summary>
/// Picks each request's next token from the logits of its last decoded position. Greedy decoding without penalties is
/// an argmax over the logits (the first maximum, as llama.cpp's greedy sampler picks); done here directly it saves
/// copying the whole vocabulary into a candidate array every step, which with a 150k vocabulary and eight sessions
/// costs more than the bookkeeping of the batch. Everything else goes through llama.cpp's sampler chain.
/// </summary>
internal sealed class TokenSampler(LLamaContext context, bool[] endOfGeneration)
{
    public bool IsEndOfGeneration(int token) => endOfGeneration[token];

    public LLamaToken Sample(GenerationRequest request, int logitsIndex)
    {
        SamplingOptions sampling = request.Sampling;
        if (sampling.Temperature > 0 || sampling.RepetitionPenalty != 1f)
        {
            return request.Chain.Sample(context.NativeHandle, logitsIndex);
        }
        Span<float> logits = context.NativeHandle.GetLogitsIth(logitsIndex);
        int best = -1;
        float bestValue = float.NegativeInfinity;
        for (int token = 0; token < logits.Length; token++)
        {
            if (logits[token] > bestValue && !(sampling.IgnoreEndOfGeneration && endOfGeneration[token]))
            {
                bestValue = logits[token];
                best = token;
            }
        }
        return (LLamaToken)best;
    }

    /// <summary>llama.cpp's sampler chain for <paramref name="sampling"/>.</summary>
    public static DefaultSamplingPipeline ChainFor(SamplingOptions sampling) => new()
    {
        Temperature = sampling.Temperature,
        TopP = sampling.TopP,
        TopK = sampling.TopK,
        MinP = sampling.MinP,
        RepeatPenalty = sampling.RepetitionPenalty,
        PenaltyCount = sampling.RepetitionWindow,
        Seed = sampling.Seed ?? (uint)Random.Shared.Next(),
        PreventEOS = sampling.IgnoreEndOfGeneration,
    };
}
