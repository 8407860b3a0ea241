namespace WebSsl.Language.Prompting;

/// <summary>Text to token ids, as the model's own tokenizer does it (llama.cpp's, through <see cref="LanguageModel"/>).</summary>
public interface ITokenizer
{
    /// <summary>Whether the model expects a BOS token at the start of a sequence.</summary>
    bool AddBos { get; }

    int[] Tokenize(string text, bool addBos);
}
