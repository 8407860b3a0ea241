using LLama;
using LLama.Common;
using LLama.Exceptions;
using LLama.Native;
using WebSsl.Language.Gguf;
using WebSsl.Language.Prompting;
using WebSsl.Language.Runtime;

namespace WebSsl.Language;

/// <summary>How a model file is loaded.</summary>
public sealed record LanguageModelOptions
{
    /// <summary>Layers offloaded to the GPU (CUDA builds); 0 = CPU only.</summary>
    public int GpuLayers { get; init; }

    /// <summary>When set, the model's n_embd must equal it (the projector's output width).</summary>
    public int? ExpectedEmbeddingSize { get; init; }
}

/// <summary>
/// A GGUF model as llama.cpp loads it, with the tokenizer and chat template everything else uses. The file is validated by
/// our own reader first, so malformed files get a clear message instead of reaching llama.cpp's asserts.
/// </summary>
public sealed class LanguageModel : ITokenizer, IDisposable
{
    private LanguageModel(string path, GgufFile gguf, LLamaWeights weights)
    {
        Path = path;
        Gguf = gguf;
        Weights = weights;
    }

    public string Path { get; }

    /// <summary>The file's header: metadata and tensor table.</summary>
    public GgufFile Gguf { get; }

    public LLamaWeights Weights { get; }

    public string Architecture => Gguf.Architecture;

    public string Name => Gguf.Metadata.TryGetValue("general.name", out object? name) && name is string s && s.Length > 0
        ? s
        : System.IO.Path.GetFileNameWithoutExtension(Path);

    public int EmbeddingSize => Weights.EmbeddingSize;

    public int VocabularySize => Weights.Vocab.Count;

    public int TrainingContextLength => Weights.ContextSize;

    public bool AddBos => Weights.Vocab.ShouldAddBOS;

    /// <summary>The raw <c>tokenizer.chat_template</c>, when the file has one.</summary>
    public string? ChatTemplateSource => Gguf.Metadata.TryGetValue("tokenizer.chat_template", out object? t) ? t as string : null;

    public static LanguageModel Load(string path, LanguageModelOptions? options = null)
    {
        options ??= new LanguageModelOptions();
        path = System.IO.Path.GetFullPath(path);
        GgufFile gguf = GgufFile.Open(path);
        CheckMetadata(gguf);
        LlamaRuntime.EnsureInitialized();
        LlamaRuntime.ClearProblems();
        LLamaWeights weights;
        try
        {
            weights = LLamaWeights.LoadFromFile(new ModelParams(path) { GpuLayerCount = options.GpuLayers });
        }
        catch (LoadWeightsFailedException e)
        {
            string reason = string.Join(" ", LlamaRuntime.RecentProblems());
            throw new GgufException(path, $"llama.cpp could not load it (architecture '{gguf.Architecture}'): {(reason.Length > 0 ? reason : e.Message)}", e);
        }
        var model = new LanguageModel(path, gguf, weights);
        int width = model.EmbeddingSize;
        if (options.ExpectedEmbeddingSize is int expected && expected != width)
        {
            model.Dispose();
            throw new GgufException(path, $"embedding size (n_embd) is {width}, but {expected} was expected (the projector's output width): this is not the LLM the projector was trained for.");
        }
        return model;
    }

    /// <summary>Tokenizes with llama.cpp's own tokenizer; control tokens written in the text (e.g. &lt;|im_start|&gt;) are parsed.</summary>
    public int[] Tokenize(string text, bool addBos) =>
        Weights.NativeHandle.Tokenize(text, addBos, special: true, System.Text.Encoding.UTF8).Select(t => (int)t).ToArray();

    /// <summary>The text of one token (special tokens included).</summary>
    public string TokenText(int token) => Weights.Vocab.LLamaTokenToString((LLamaToken)token, isSpecialToken: true) ?? "";

    public bool IsEndOfGeneration(int token) => ((LLamaToken)token).IsEndOfGeneration(Weights.Vocab);

    /// <summary>
    /// The metadata llama.cpp needs before it can even look at tensors, with the types it insists on, checked here so that
    /// a file missing them gets a message naming the key.
    /// </summary>
    private static void CheckMetadata(GgufFile gguf)
    {
        if (!gguf.Metadata.TryGetValue("general.architecture", out object? arch) || arch is not string architecture || architecture.Length == 0)
        {
            throw new GgufException(gguf.Path, "metadata 'general.architecture' is missing; every llama.cpp model names its architecture.");
        }
        var required = new List<(string Key, Type Type)>
        {
            ($"{architecture}.embedding_length", typeof(uint)),
            ($"{architecture}.block_count", typeof(uint)),
            ("tokenizer.ggml.model", typeof(string)),
            ("tokenizer.ggml.tokens", typeof(GgufArray)),
        };
        if (architecture is "llama" or "qwen2")
        {
            required.Add(($"{architecture}.context_length", typeof(uint)));
            required.Add(($"{architecture}.feed_forward_length", typeof(uint)));
            required.Add(($"{architecture}.attention.head_count", typeof(uint)));
            required.Add(($"{architecture}.attention.layer_norm_rms_epsilon", typeof(float)));
        }
        foreach (var (key, type) in required)
        {
            if (!gguf.Metadata.TryGetValue(key, out object? value))
            {
                throw new GgufException(gguf.Path, $"metadata '{key}' is missing; llama.cpp needs it for architecture '{architecture}'.");
            }
            if (value.GetType() != type)
            {
                throw new GgufException(gguf.Path, $"metadata '{key}' has type {value.GetType().Name}, llama.cpp requires {(type == typeof(uint) ? "u32" : type == typeof(float) ? "f32" : type.Name)}.");
            }
        }
        if (!gguf.TensorsByName.ContainsKey("token_embd.weight"))
        {
            throw new GgufException(gguf.Path, "has no 'token_embd.weight' tensor.");
        }
    }

    public void Dispose() => Weights.Dispose();
}
