using WebSsl.Language.Engine;
using WebSsl.Language.Fixtures;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Tests;


/// <summary>Generated GGUF models shared by a test class: a random llama, and helpers for successor models.</summary>
public sealed class TinyModels : IDisposable
{
    public TinyModels()
    {
        RandomLlamaPath = Temp.File("random-llama.gguf");
        TinyLlamaBuilder.WriteRandom(RandomLlamaPath, LlamaShape.Get("tiny"), seed: 11);
        RandomLlama = LanguageModel.Load(RandomLlamaPath);
    }

    public TempDirectory Temp { get; } = new();

    public string RandomLlamaPath { get; }

    public LanguageModel RandomLlama { get; }

    public TinyVocabulary Vocabulary { get; } = TinyVocabulary.Create();

    public int Id(string piece) => Vocabulary.Ids[piece];

    /// <summary>A model that, after the generation prompt's last token, produces <paramref name="answer"/> then &lt;|im_end|&gt;.</summary>
    public LanguageModel Successor(string name, IReadOnlyList<int> answer, bool endWithImEnd = true)
    {
        var map = new Dictionary<int, int>();
        int previous = Vocabulary.Byte((byte)'\n'); // "<|im_start|>assistant\n" ends with the newline byte token
        foreach (int token in answer)
        {
            if (!map.TryAdd(previous, token))
            {
                throw new ArgumentException($"token {previous} would need two successors; use answers without repeated tokens.");
            }
            previous = token;
        }
        if (endWithImEnd)
        {
            map[previous] = Vocabulary.ImEnd;
        }
        string path = Temp.File(name + ".gguf");
        TinyLlamaBuilder.WriteSuccessor(path, map);
        return LanguageModel.Load(path);
    }

    public static PromptBuilder Builder(LanguageModel model) => new(ChatTemplate.For(model), model);

    public void Dispose()
    {
        RandomLlama.Dispose();
        Temp.Dispose();
    }
}

internal static class Streams
{
    public static async Task<(List<string> Pieces, GenerationResult Result)> Collect(IAsyncEnumerable<GenerationChunk> stream)
    {
        var pieces = new List<string>();
        GenerationResult? result = null;
        await foreach (GenerationChunk chunk in stream)
        {
            if (chunk.Text.Length > 0)
            {
                pieces.Add(chunk.Text);
            }
            result = chunk.Final ?? result;
        }
        return (pieces, result!);
    }
}
