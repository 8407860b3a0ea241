namespace WebSsl.Language.Fixtures;

/// <summary>llama.cpp's token types (tokenizer.ggml.token_type).</summary>
public enum TokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>
/// A small SentencePiece-style vocabulary with byte fallback, as llama.cpp's "llama" tokenizer reads it: &lt;unk&gt;,
/// &lt;s&gt;, &lt;/s&gt;, the 256 byte tokens &lt;0x00&gt;..&lt;0xFF&gt;, the ChatML control tokens, then word pieces
/// ("▁" marks a leading space) whose scores make longer pieces win. Any text tokenizes (unknown characters fall back to
/// their UTF-8 bytes), so multi-byte characters really are split across tokens.
/// </summary>
public sealed class TinyVocabulary
{
    public const string SpaceMarker = "\u2581";

    private static readonly string[] Words =
    [
        "the", "is", "a", "of", "and", "to", "in", "what", "value", "chart", "bar", "line", "pie", "table", "total", "title",
        "axis", "year", "month", "sales", "revenue", "cost", "price", "highest", "lowest", "how", "many", "which", "answer",
        "question", "image", "document", "receipt", "hello", "world", "yes", "no", "user", "assistant", "system", "you",
        "are", "helpful", "read", "text", "number", "percent",
    ];

    private TinyVocabulary(List<(string Piece, float Score, TokenType Type)> tokens)
    {
        Tokens = tokens;
        Ids = tokens.Select((t, i) => (t.Piece, i)).ToDictionary(p => p.Piece, p => p.i, StringComparer.Ordinal);
    }

    public IReadOnlyList<(string Piece, float Score, TokenType Type)> Tokens { get; }

    public IReadOnlyDictionary<string, int> Ids { get; }

    public int Count => Tokens.Count;

    public int Unknown => Ids["<unk>"];

    public int Bos => Ids["<s>"];

    public int Eos => Ids["</s>"];

    public int ImStart => Ids["<|im_start|>"];

    public int ImEnd => Ids["<|im_end|>"];

    /// <summary>The id of the byte-fallback token for <paramref name="value"/>.</summary>
    public int Byte(byte value) => Ids[$"<0x{value:X2}>"];

    /// <param name="extraWords">Words to make whole tokens besides the built-in ones (a demo model's domain words: shorter
    /// sequences, and a word is one prediction instead of several).</param>
    public static TinyVocabulary Create(IEnumerable<string>? extraWords = null)
    {
        var tokens = new List<(string, float, TokenType)>
        {
            ("<unk>", 0f, TokenType.Unknown),
            ("<s>", 0f, TokenType.Control),
            ("</s>", 0f, TokenType.Control),
        };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add(($"<0x{b:X2}>", 0f, TokenType.Byte));
        }
        tokens.Add(("<|im_start|>", 0f, TokenType.Control));
        tokens.Add(("<|im_end|>", 0f, TokenType.Control));

        var pieces = new List<string> { SpaceMarker };
        for (char c = 'a'; c <= 'z'; c++)
        {
            pieces.Add(c.ToString());
            pieces.Add(SpaceMarker + c);
        }
        for (char c = 'A'; c <= 'Z'; c++)
        {
            pieces.Add(c.ToString());
        }
        for (char c = '0'; c <= '9'; c++)
        {
            pieces.Add(c.ToString());
            pieces.Add(SpaceMarker + c);
        }
        pieces.AddRange([".", ",", "?", "!", ":", "%", "$", "-", "(", ")", "'", "\""]);
        foreach (string word in Words.Concat(extraWords ?? []).Where(w => w.Length > 0 && !w.Any(char.IsWhiteSpace)))
        {
            // SentencePiece merges adjacent pieces only into pieces that exist, so every prefix of a word is a piece too:
            // "b" + "a" -> "ba", "ba" + "r" -> "bar". Without them words would never form and text would stay letters.
            for (int length = 2; length <= word.Length; length++)
            {
                pieces.Add(word[..length]);
                pieces.Add(SpaceMarker + word[..length]);
            }
        }
        // SentencePiece scores are log-probabilities; llama.cpp merges the best-scoring pair first, so longer pieces get
        // higher scores and whole words win over letters.
        foreach (string piece in pieces.Distinct(StringComparer.Ordinal))
        {
            tokens.Add((piece, -10f + piece.Length, TokenType.Normal));
        }
        return new TinyVocabulary(tokens);
    }
}
