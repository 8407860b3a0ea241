using System.Security.Cryptography;
using System.Text;
using WebSsl.Language;
using WebSsl.Language.Gguf;
using WebSsl.Vision;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Images;

namespace WebSsl.Multimodal.Adapters;

public static class Identities
{
    /// <summary>The identity of <paramref name="encoder"/> used with these features and preprocessing.</summary>
    public static EncoderIdentity Of(VisionEncoder encoder, FeatureSelection features, PreprocessOptions preprocess)
    {
        (int height, int width) = encoder.Preprocessor.OutputSize(preprocess);
        if (height != width)
        {
            throw new ArgumentException($"adapters need square encoder inputs; {encoder.Name} produces {height}x{width} with these options.");
        }
        return new EncoderIdentity
        {
            Name = encoder.Name,
            ConfigHash = encoder.Config.ConfigHash,
            ModelType = encoder.Config.Architecture == VisionArchitecture.Dinov2 ? "dinov2" : "vit",
            HiddenSize = encoder.Config.HiddenSize,
            PatchSize = encoder.Config.PatchSize,
            Resolution = height,
            FeatureLayer = features.Layer,
            KeepCls = features.KeepCls,
            Preprocess = preprocess.Mode.ToString().ToLowerInvariant(),
            TokenGrid = height / encoder.Config.PatchSize,
        };
    }

    public static LlmIdentity Of(LanguageModel model) => Of(model.Gguf);

    public static LlmIdentity Of(GgufFile gguf)
    {
        string architecture = gguf.Architecture;
        string[] tokens = gguf.GetArray<string>("tokenizer.ggml.tokens");
        return new LlmIdentity
        {
            Architecture = architecture,
            EmbeddingSize = (int)gguf.GetUInt32($"{architecture}.embedding_length"),
            VocabularySize = tokens.Length,
            TokenListHash = TokenListHash(tokens),
            FileName = Path.GetFileName(gguf.Path),
            FileType = gguf.Metadata.TryGetValue("general.file_type", out object? type) && type is uint t ? t : null,
        };
    }

    /// <summary>SHA-256 over the tokens, each length-prefixed, so no two token lists share a hash by concatenation.</summary>
    public static string TokenListHash(IReadOnlyList<string> tokens)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (string token in tokens)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(token);
            BitConverter.TryWriteBytes(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Every field that differs, described for a person. File name and quantization may differ.</summary>
    public static List<string> Differences(AdapterManifest manifest, EncoderIdentity? encoder, LlmIdentity? llm)
    {
        var differences = new List<string>();
        void Compare<T>(string field, T expected, T actual)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
            {
                differences.Add($"{field}: the adapter was trained with {Show(expected)}, this one has {Show(actual)}");
            }
        }
        if (encoder is not null)
        {
            EncoderIdentity e = manifest.Encoder;
            Compare("encoder.config_hash", e.ConfigHash, encoder.ConfigHash);
            Compare("encoder.model_type", e.ModelType, encoder.ModelType);
            Compare("encoder.hidden_size", e.HiddenSize, encoder.HiddenSize);
            Compare("encoder.resolution", e.Resolution, encoder.Resolution);
            Compare("encoder.feature_layer", e.FeatureLayer, encoder.FeatureLayer);
            Compare("encoder.keep_cls", e.KeepCls, encoder.KeepCls);
            Compare("encoder.preprocess", e.Preprocess, encoder.Preprocess);
            Compare("encoder.token_grid", e.TokenGrid, encoder.TokenGrid);
        }
        if (llm is not null)
        {
            LlmIdentity l = manifest.Llm;
            Compare("llm.architecture", l.Architecture, llm.Architecture);
            Compare("llm.n_embd", l.EmbeddingSize, llm.EmbeddingSize);
            Compare("llm.vocab_size", l.VocabularySize, llm.VocabularySize);
            Compare("llm.token_list_hash", l.TokenListHash, llm.TokenListHash);
        }
        return differences;
    }

    private static string Show<T>(T value) => value switch
    {
        null => "none",
        string s when s.Length == 64 => s[..12] + "…",
        _ => value.ToString()!,
    };
}
