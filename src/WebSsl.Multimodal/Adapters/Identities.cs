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
            throw new BadInputException($"adapters need square encoder inputs; {encoder.Name} produces {height}x{width} with these options.");
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
        var differences = encoder is null ? [] : EncoderDifferences(manifest.Encoder, encoder);
        if (llm is not null)
        {
            LlmIdentity l = manifest.Llm;
            Compare(differences, "llm.architecture", l.Architecture, llm.Architecture);
            Compare(differences, "llm.n_embd", l.EmbeddingSize, llm.EmbeddingSize);
            Compare(differences, "llm.vocab_size", l.VocabularySize, llm.VocabularySize);
            Compare(differences, "llm.token_list_hash", l.TokenListHash, llm.TokenListHash);
        }
        return differences;
    }

    /// <summary>Every field in which <paramref name="encoder"/> differs from the encoder a projector was <paramref name="trained"/> on.</summary>
    public static List<string> EncoderDifferences(EncoderIdentity trained, EncoderIdentity encoder)
    {
        var differences = new List<string>();
        Compare(differences, "encoder.config_hash", trained.ConfigHash, encoder.ConfigHash);
        Compare(differences, "encoder.model_type", trained.ModelType, encoder.ModelType);
        Compare(differences, "encoder.hidden_size", trained.HiddenSize, encoder.HiddenSize);
        Compare(differences, "encoder.resolution", trained.Resolution, encoder.Resolution);
        Compare(differences, "encoder.feature_layer", trained.FeatureLayer, encoder.FeatureLayer);
        Compare(differences, "encoder.keep_cls", trained.KeepCls, encoder.KeepCls);
        Compare(differences, "encoder.preprocess", trained.Preprocess, encoder.Preprocess);
        Compare(differences, "encoder.token_grid", trained.TokenGrid, encoder.TokenGrid);
        return differences;
    }

    private static void Compare<T>(List<string> differences, string field, T expected, T actual)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
        {
            differences.Add($"{field}: the adapter was trained with {Show(expected)}, this one has {Show(actual)}");
        }
    }

    private static string Show<T>(T value) => value switch
    {
        null => "none",
        string s when s.Length == 64 => s[..12] + "…",
        _ => value.ToString()!,
    };
}
