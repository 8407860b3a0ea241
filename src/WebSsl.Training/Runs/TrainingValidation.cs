using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Language;
using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Embedding;
using WebSsl.Training.Data;
using WebSsl.Training.Evaluation;
using WebSsl.Vision.Images;
using static TorchSharp.torch;

namespace WebSsl.Training.Runs;

/// <summary>
/// A validation pass of a run: the loss on held-out records, then each record's first question answered as it will be
/// served — images through the serving <see cref="ImageEmbedder"/>, the answer greedily from llama.cpp (a tuned LLM is
/// written out as GGUF and loaded for it: the file is what will serve).
/// </summary>
internal static class TrainingValidation
{
    public static async Task<ValidationResult> RunAsync(TunedModels models, EncoderIdentity encoder, LanguageModel llm, LanguageEngine engine, PromptBuilder prompts,
        ChatTemplate template, List<(VqaRecord Record, TrainingSequence Sequence)> records, TrainingOptions options, int step, string output,
        CancellationToken cancellationToken)
    {
        double weighted = 0;
        int tokens = 0, exact = 0, relaxed = 0;
        using (no_grad())
        {
            for (int i = 0; i < records.Count; i += options.BatchSize)
            {
                using var scope = NewDisposeScope();
                var batch = records.Skip(i).Take(options.BatchSize).ToList();
                int count = batch.Sum(b => b.Sequence.TargetTokens.Length);
                weighted += MultimodalCollator.Loss(models, batch, cancellationToken).item<float>() * count;
                tokens += count;
            }
        }
        LanguageModel? tuned = null;
        LanguageEngine? tunedEngine = null;
        await using var embedder = new ImageEmbedder(models.Encoder, models.Projector, encoder, new ImageEmbedderOptions { CacheBytes = 0 });
        try
        {
            if (models.Mode >= TuneMode.Llm)
            {
                string path = Path.Combine(output, "validation.gguf");
                models.Llama.SaveGguf(path, llm.Gguf);
                tuned = LanguageModel.Load(path);
                tunedEngine = LanguageEngine.Create(tuned, engine.Options);
                prompts = new PromptBuilder(template, tuned);
            }
            LanguageEngine answering = tunedEngine ?? engine;
            using EngineSession session = answering.CreateSession();
            foreach (var (record, _) in records)
            {
                var (turns, expected) = FirstQuestion(record, embedder, cancellationToken);
                GenerationResult answer = await answering.CompleteAsync(session, prompts.Build(turns), SamplingOptions.Greedy with { MaxTokens = options.GenerationMaxTokens },
                    cancellationToken);
                exact += AnswerScoring.ExactMatch(answer.Text, expected) ? 1 : 0;
                relaxed += AnswerScoring.RelaxedCorrect(answer.Text, expected) ? 1 : 0;
            }
        }
        finally
        {
            tunedEngine?.Dispose();
            tuned?.Dispose();
            File.Delete(Path.Combine(output, "validation.gguf"));
        }
        return new ValidationResult(step, weighted / Math.Max(1, tokens), (double)exact / records.Count, (double)relaxed / records.Count, records.Count);
    }

    /// <summary>The turns up to the first answer, with their images embedded, and that answer.</summary>
    private static (List<ChatTurn> Turns, string Answer) FirstQuestion(VqaRecord record, ImageEmbedder embedder, CancellationToken cancellationToken)
    {
        var turns = new List<ChatTurn>();
        int nextImage = 0;
        foreach (var (role, text) in record.Turns)
        {
            if (role == ChatRole.Assistant)
            {
                return (turns, text);
            }
            int count = role == ChatRole.User ? VqaRecord.CountMarkers(text) : 0;
            var images = new List<ImageEmbedding>();
            for (int i = 0; i < count; i++)
            {
                ImageSource source = record.Images[nextImage++];
                using Image<Rgb24> image = ImageLoader.Load(source.ReadBytes(), source.Label);
                images.Add(embedder.Embed(image, cancellationToken: cancellationToken));
            }
            turns.Add(new ChatTurn(role, text) { Images = images });
        }
        throw new InvalidOperationException($"record {record.Id} has no answer.");
    }
}
