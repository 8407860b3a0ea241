using WebSsl.Language;
using WebSsl.Language.Prompting;

namespace WebSsl.Training.Data;

/// <summary>A run of a training sequence: tokens, or the projected rows of one of the record's images.</summary>
public abstract record SequencePart(int Length);

public sealed record TokenPart(int[] Tokens) : SequencePart(Tokens.Length);

public sealed record ImagePart(int ImageIndex, int Rows) : SequencePart(Rows);

/// <summary>
/// A record as the model sees it: parts in order, and the positions whose token is a training target (the assistant's
/// answer tokens and the end-of-turn token after each answer). The logits at position p - 1 predict the target at p.
/// </summary>
public sealed record TrainingSequence(string Id, IReadOnlyList<SequencePart> Parts, int[] TargetPositions, int[] TargetTokens)
{
    public int Length => Parts.Sum(p => p.Length);

    /// <summary>The token at each text position (image positions are -1).</summary>
    public int[] Tokens()
    {
        var tokens = new List<int>(Length);
        foreach (SequencePart part in Parts)
        {
            tokens.AddRange(part is TokenPart t ? t.Tokens : Enumerable.Repeat(-1, part.Length));
        }
        return tokens.ToArray();
    }
}

/// <summary>Why a record cannot be trained on.</summary>
public sealed class SequenceException(string problem) : WebSslException(ProblemKind.BadInput, "bad-sequence", problem);

/// <summary>
/// Builds training sequences with the very <see cref="PromptBuilder"/> and tokenizer used when serving: each assistant
/// answer is tokenized on its own and pinned into the conversation (as served answers are), so the prompt before every
/// answer is exactly what the server will send, and only answer tokens and end-of-turn tokens carry loss.
/// </summary>
public sealed class SequenceBuilder
{
    private readonly LanguageModel _model;
    private readonly PromptBuilder _prompts;
    private readonly Func<ImageSource, int> _imageRows;
    private readonly List<ImageEmbedding> _placeholders = [];

    /// <param name="imageTokens">Embedding rows each image becomes (the projector's output tokens).</param>
    /// <param name="maxLength">Longest sequence allowed (the training context).</param>
    public SequenceBuilder(LanguageModel model, PromptBuilder prompts, int imageTokens, int maxLength)
        : this(model, prompts, _ => imageTokens, maxLength)
    {
    }

    /// <param name="imageRows">Embedding rows an image becomes (with tiles, they depend on the image).</param>
    /// <param name="maxLength">Longest sequence allowed (the training context).</param>
    public SequenceBuilder(LanguageModel model, PromptBuilder prompts, Func<ImageSource, int> imageRows, int maxLength)
    {
        _model = model;
        _prompts = prompts;
        _imageRows = imageRows;
        MaxLength = maxLength;
    }

    public int MaxLength { get; }

    public TrainingSequence Build(VqaRecord record)
    {
        if (record.ImageMarkers != record.Images.Count)
        {
            throw new SequenceException($"{record.ImageMarkers} {ChatTurn.ImageMarker} markers but {record.Images.Count} images.");
        }
        if (!record.Turns.Any(t => t.Role == ChatRole.Assistant))
        {
            throw new SequenceException("no assistant answer to learn from.");
        }
        _placeholders.Clear();
        var turns = new List<ChatTurn>();
        var answers = new List<int[]>();
        int nextImage = 0;
        foreach (var (role, text) in record.Turns)
        {
            switch (role)
            {
                case ChatRole.Assistant:
                    if (text.Trim().Length == 0)
                    {
                        throw new SequenceException("an assistant answer is empty.");
                    }
                    int[] tokens = _model.Tokenize(text, addBos: false);
                    answers.Add(tokens);
                    turns.Add(ChatTurn.Assistant(text, tokens));
                    break;
                case ChatRole.User:
                    int count = VqaRecord.CountMarkers(text);
                    turns.Add(new ChatTurn(ChatRole.User, text) { Images = Enumerable.Range(nextImage, count).Select(i => Placeholder(record, i)).ToArray() });
                    nextImage += count;
                    break;
                default:
                    turns.Add(new ChatTurn(role, text));
                    break;
            }
        }

        Prompt prompt = _prompts.Build(turns, addGenerationPrompt: false);
        var parts = new List<SequencePart>();
        var targetPositions = new List<int>();
        var targetTokens = new List<int>();
        int position = 0;
        bool afterAnswer = false;
        foreach (PromptSegment segment in prompt.Segments)
        {
            switch (segment)
            {
                case EmbeddingSegment image:
                    parts.Add(new ImagePart(_placeholders.IndexOf(image.Image), image.Length));
                    afterAnswer = false;
                    break;
                case TokenSegment text:
                    int[] tokens = text.Tokens.ToArray();
                    bool isAnswer = answers.Any(a => ReferenceEquals(a, text.Tokens));
                    if (isAnswer)
                    {
                        for (int i = 0; i < tokens.Length; i++)
                        {
                            targetPositions.Add(position + i);
                            targetTokens.Add(tokens[i]);
                        }
                    }
                    else if (afterAnswer && tokens.Length > 0 && _model.IsEndOfGeneration(tokens[0]))
                    {
                        // The end-of-turn token right after an answer is learned too: it is how the served model stops.
                        targetPositions.Add(position);
                        targetTokens.Add(tokens[0]);
                    }
                    parts.Add(new TokenPart(tokens));
                    afterAnswer = isAnswer;
                    break;
            }
            position += segment.Length;
        }
        if (position > MaxLength)
        {
            throw new SequenceException($"{position} positions after tokenization ({prompt.ImageTokens} of them image tokens) exceed the training context of {MaxLength}.");
        }
        if (targetPositions.Count == 0 || targetPositions[0] == 0)
        {
            throw new SequenceException("every answer token would be masked (nothing to learn from).");
        }
        return new TrainingSequence(record.Id, parts, targetPositions.ToArray(), targetTokens.ToArray());
    }

    /// <summary>
    /// Checks once that the prompt the server sends before an answer (the conversation so far plus the template's
    /// generation prompt) is exactly the training sequence up to that answer. A template whose generation prompt differs
    /// from its assistant prefix would otherwise train on sequences the server never produces — the classic cause of a
    /// projector that trains to a low loss and then answers nonsense.
    /// </summary>
    public void CheckServingAgreement(VqaRecord record, TrainingSequence sequence)
    {
        int firstAnswer = record.Turns.ToList().FindIndex(t => t.Role == ChatRole.Assistant);
        _placeholders.Clear();
        var before = new List<ChatTurn>();
        int nextImage = 0;
        foreach (var (role, text) in record.Turns.Take(firstAnswer))
        {
            int count = role == ChatRole.User ? VqaRecord.CountMarkers(text) : 0;
            before.Add(new ChatTurn(role, text) { Images = Enumerable.Range(nextImage, count).Select(i => Placeholder(record, i)).ToArray() });
            nextImage += count;
        }
        var served = _prompts.Build(before, addGenerationPrompt: true).Items().Select(i => i.IsToken ? i.Token : -1).ToArray();
        int[] trained = sequence.Tokens();
        if (served.Length > trained.Length || !served.AsSpan().SequenceEqual(trained.AsSpan(0, served.Length)) || served.Length != sequence.TargetPositions[0])
        {
            throw new SequenceException(
                $"chat template '{_prompts.Template.Name}': the prompt served before an answer differs from the training sequence up to it; " +
                "choose a template whose generation prompt equals its assistant prefix (--template).");
        }
    }

    /// <summary>A stand-in of the right size for the record's image <paramref name="index"/>, told apart from the others by identity.</summary>
    private ImageEmbedding Placeholder(VqaRecord record, int index)
    {
        while (_placeholders.Count <= index)
        {
            int rows = _imageRows(record.Images[_placeholders.Count]);
            _placeholders.Add(new ImageEmbedding(new float[rows * _model.EmbeddingSize], _model.EmbeddingSize));
        }
        return _placeholders[index];
    }
}
