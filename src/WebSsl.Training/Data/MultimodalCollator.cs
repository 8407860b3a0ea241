using WebSsl.Training.Runs;
using F = TorchSharp.torch.nn.functional;
using static TorchSharp.torch;

namespace WebSsl.Training.Data;

/// <summary>
/// Splices projected image rows into the LLM's token embeddings where each sequence has its image placeholders, pads the
/// batch, and scores the answer tokens (LLaVA's <c>prepare_inputs_labels_for_multimodal</c> followed by the loss).
/// </summary>
internal static class MultimodalCollator
{
    /// <summary>Mean cross-entropy over all answer (and end-of-turn) tokens of the batch.</summary>
    public static Tensor Loss(TunedModels models, IReadOnlyList<(VqaRecord Record, TrainingSequence Sequence)> batch, CancellationToken cancellationToken)
    {
        var llama = models.Llama;
        var images = batch.SelectMany(b => b.Record.Images).ToList();
        IReadOnlyList<Tensor>? projected = images.Count > 0 ? models.ImageRows(images, cancellationToken) : null;
        int dim = llama.Hyper.EmbeddingSize;
        int longest = batch.Max(b => b.Sequence.Length);
        var rows = new List<Tensor>();
        var gather = new List<long>();
        var targets = new List<long>();
        int imageOffset = 0;
        for (int b = 0; b < batch.Count; b++)
        {
            TrainingSequence sequence = batch[b].Sequence;
            var parts = new List<Tensor>();
            foreach (SequencePart part in sequence.Parts)
            {
                parts.Add(part switch
                {
                    TokenPart t => llama.Embed(tensor(t.Tokens.Select(x => (long)x).ToArray())),
                    ImagePart i => projected![imageOffset + i.ImageIndex],
                    _ => throw new InvalidOperationException(),
                });
            }
            if (sequence.Length < longest)
            {
                parts.Add(zeros(longest - sequence.Length, dim));
            }
            rows.Add(cat(parts));
            // The logits at position p - 1 predict the token at p.
            gather.AddRange(sequence.TargetPositions.Select(p => (long)b * longest + p - 1));
            targets.AddRange(sequence.TargetTokens.Select(t => (long)t));
            imageOffset += batch[b].Record.Images.Count;
        }
        Tensor hidden = llama.Hidden(stack(rows)).view(-1, dim);
        Tensor logits = llama.Logits(hidden.index_select(0, tensor(gather.ToArray())));
        return F.cross_entropy(logits, tensor(targets.ToArray()));
    }
}
