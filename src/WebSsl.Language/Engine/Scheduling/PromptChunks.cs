using WebSsl.Language.Prompting;

namespace WebSsl.Language.Engine.Scheduling;

/// <summary>How a prompt is cut into llama.cpp decode calls (the one rule for prefill and for scratch logits).</summary>
internal static class PromptChunks
{
    /// <summary>
    /// The end of the chunk that starts at <paramref name="start"/>: tokens, or rows of one image (a batch holds either
    /// token ids or embeddings, never both), at most <paramref name="batchSize"/> positions.
    /// </summary>
    public static int End(IReadOnlyList<PromptItem> items, int start, int batchSize)
    {
        PromptItem first = items[start];
        int end = start;
        while (end < items.Count && end - start < batchSize && items[end].IsToken == first.IsToken && (first.IsToken || items[end].Image == first.Image))
        {
            end++;
        }
        return end;
    }
}
