using System.Text.RegularExpressions;

namespace WebSsl.Language.Prompting;

/// <summary>
/// Turns a conversation into prompt segments: the chat template renders the text with a unique placeholder for every image
/// and every pinned assistant answer, the text between placeholders is tokenized by the model's tokenizer, and each
/// placeholder becomes an embedding segment (image) or its token segment (answer). Deterministic: the same turns give the
/// same segments, which is what lets training and serving see identical sequences and lets a follow-up turn reuse the
/// KV cache of everything before it.
/// </summary>
public sealed partial class PromptBuilder(ChatTemplate template, ITokenizer tokenizer)
{
    public ChatTemplate Template { get; } = template;

    public Prompt Build(IReadOnlyList<ChatTurn> turns, bool addGenerationPrompt = true)
    {
        var slots = new List<PromptSegment>();
        var messages = new List<(ChatRole, string)>();
        foreach (ChatTurn turn in turns)
        {
            messages.Add((turn.Role, Content(turn, slots)));
        }
        string rendered = Template.Render(messages, addGenerationPrompt);

        var segments = new List<PromptSegment>();
        int position = 0, used = 0;
        bool first = true;
        foreach (Match match in Placeholder().Matches(rendered))
        {
            AddText(rendered[position..match.Index]);
            segments.Add(slots[int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)]);
            used++;
            position = match.Index + match.Length;
        }
        AddText(rendered[position..]);
        if (used != slots.Count)
        {
            throw new InvalidOperationException($"chat template '{Template.Name}' dropped {slots.Count - used} of {slots.Count} image or answer placeholders.");
        }
        return new Prompt(segments);

        void AddText(string text)
        {
            bool bos = first && tokenizer.AddBos;
            first = false;
            if (text.Length == 0 && !bos)
            {
                return;
            }
            int[] tokens = tokenizer.Tokenize(text, bos);
            if (tokens.Length > 0)
            {
                segments.Add(new TokenSegment(tokens));
            }
        }
    }

    private static string Content(ChatTurn turn, List<PromptSegment> slots)
    {
        string Slot(PromptSegment segment)
        {
            slots.Add(segment);
            return $"\u27EAwebssl-slot:{slots.Count - 1}\u27EB";
        }
        if (turn.Role == ChatRole.Assistant && turn.GeneratedTokens is { Count: > 0 } tokens)
        {
            return Slot(new TokenSegment(tokens));
        }
        if (turn.Images.Count == 0)
        {
            return turn.Text;
        }
        if (turn.Role != ChatRole.User)
        {
            throw new BadInputException("only user turns can carry images.");
        }
        string[] parts = turn.Text.Split(ChatTurn.ImageMarker);
        int markers = parts.Length - 1;
        if (markers > turn.Images.Count)
        {
            throw new BadInputException($"the turn has {markers} {ChatTurn.ImageMarker} markers but only {turn.Images.Count} images.");
        }
        var content = new System.Text.StringBuilder();
        int next = 0;
        for (; next < turn.Images.Count - markers; next++)
        {
            content.Append(Slot(new EmbeddingSegment(turn.Images[next]))).Append('\n');
        }
        content.Append(parts[0]);
        for (int i = 1; i < parts.Length; i++)
        {
            content.Append(Slot(new EmbeddingSegment(turn.Images[next++]))).Append(parts[i]);
        }
        return content.ToString();
    }

    [GeneratedRegex("\u27EAwebssl-slot:(\\d+)\u27EB")]
    private static partial Regex Placeholder();
}
