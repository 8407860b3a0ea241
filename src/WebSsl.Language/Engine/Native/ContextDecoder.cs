using LLama;
using LLama.Native;
using WebSsl.Language.Engine.Scheduling;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Engine.Native;

/// <summary>
/// The llama.cpp decode calls of the engine: a run of prompt positions (tokens or one image's rows) into one sequence,
/// or a prepared batch of next tokens; when the KV cache is full, idle sessions are evicted (least recently used first)
/// and the call retried. Counts decoded positions and calls. Scheduler thread only.
/// </summary>
internal sealed class ContextDecoder(LLamaContext context, KvSlots slots, int embeddingSize, int batchSize)
{
    private long _decodedPositions;
    private long _decodeCalls;

    public long DecodedPositions => Interlocked.Read(ref _decodedPositions);

    public long DecodeCalls => Interlocked.Read(ref _decodeCalls);

    /// <summary>
    /// Decodes items [start, end) of one sequence as one batch. Returns the batch index whose logits belong to the last
    /// item, or null when the KV cache has no room even after evicting idle sessions.
    /// </summary>
    public int? DecodeRun(IReadOnlyList<PromptItem> items, int start, int end, int sequence, bool logitsForLast, bool logitsForAll, List<float[]>? collect = null)
    {
        var seq = (LLamaSeqId)sequence;
        int lastIndex = -1;
        Func<DecodeResult> decode;
        if (items[start].IsToken)
        {
            var batch = new LLamaBatch();
            for (int i = start; i < end; i++)
            {
                lastIndex = batch.Add((LLamaToken)items[i].Token, i, seq, logitsForAll || (logitsForLast && i == end - 1));
            }
            decode = () => context.NativeHandle.Decode(batch);
        }
        else
        {
            // A new batch per call: LLamaBatchEmbeddings.Clear() leaves internal state behind in LLamaSharp 0.30.
            var batch = new LLamaBatchEmbeddings(embeddingSize);
            for (int i = start; i < end; i++)
            {
                lastIndex = batch.Add(items[i].Image!.Row(items[i].Row), i, seq, logitsForAll || (logitsForLast && i == end - 1));
            }
            decode = () => context.NativeHandle.Decode(batch);
        }
        if (!Decode(decode, end - start))
        {
            return null;
        }
        if (collect is not null)
        {
            for (int i = 0; i < end - start; i++)
            {
                collect.Add(context.NativeHandle.GetLogitsIth(i).ToArray());
            }
        }
        return lastIndex;
    }

    /// <summary>Decodes a batch of next tokens; false when the KV cache has no room.</summary>
    public bool DecodeStep(LLamaBatch batch) => Decode(() => context.NativeHandle.Decode(batch), batch.TokenCount);

    /// <summary>
    /// The logits of every position of <paramref name="items"/>, decoded from scratch in <paramref name="sequence"/>
    /// (cleared before and after).
    /// </summary>
    public float[][] ScratchLogits(IReadOnlyList<PromptItem> items, int sequence)
    {
        var logits = new List<float[]>(items.Count);
        context.NativeHandle.MemorySequenceRemove((LLamaSeqId)sequence, -1, -1);
        try
        {
            for (int start = 0; start < items.Count;)
            {
                int end = PromptChunks.End(items, start, batchSize);
                if (DecodeRun(items, start, end, sequence, logitsForLast: true, logitsForAll: true, logits) is null)
                {
                    throw new InvalidOperationException($"the KV cache has no room for a {items.Count}-position prompt.");
                }
                start = end;
            }
            return logits.ToArray();
        }
        finally
        {
            context.NativeHandle.MemorySequenceRemove((LLamaSeqId)sequence, -1, -1);
        }
    }

    private bool Decode(Func<DecodeResult> decode, int positions)
    {
        while (true)
        {
            DecodeResult result = decode();
            Interlocked.Increment(ref _decodeCalls);
            if (result == DecodeResult.Ok)
            {
                Interlocked.Add(ref _decodedPositions, positions);
                return true;
            }
            if (result != DecodeResult.NoKvSlot)
            {
                throw new InvalidOperationException($"llama.cpp decode failed: {result}.");
            }
            if (!slots.EvictLeastRecentlyUsed())
            {
                return false;
            }
        }
    }
}
