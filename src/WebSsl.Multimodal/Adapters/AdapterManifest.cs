using System.Text.Json.Serialization;
using WebSsl.Multimodal.Projectors;

namespace WebSsl.Multimodal.Adapters;

/// <summary>Which encoder and which features an adapter was trained on.</summary>
public sealed record EncoderIdentity
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("config_hash")] public required string ConfigHash { get; init; }
    [JsonPropertyName("model_type")] public required string ModelType { get; init; }
    [JsonPropertyName("hidden_size")] public required int HiddenSize { get; init; }
    [JsonPropertyName("patch_size")] public required int PatchSize { get; init; }

    /// <summary>Square input side the features were computed at.</summary>
    [JsonPropertyName("resolution")] public required int Resolution { get; init; }

    /// <summary>hidden_states index (transformers' counting), or null for last_hidden_state.</summary>
    [JsonPropertyName("feature_layer")] public required int? FeatureLayer { get; init; }

    [JsonPropertyName("keep_cls")] public bool KeepCls { get; init; }

    /// <summary>crop, pad or stretch.</summary>
    [JsonPropertyName("preprocess")] public required string Preprocess { get; init; }

    /// <summary>Patches per side at that resolution (before any projector grid resize).</summary>
    [JsonPropertyName("token_grid")] public required int TokenGrid { get; init; }
}

/// <summary>Which LLM an adapter was trained for. Another quantization of the same model (same vocabulary) is fine.</summary>
public sealed record LlmIdentity
{
    [JsonPropertyName("architecture")] public required string Architecture { get; init; }
    [JsonPropertyName("n_embd")] public required int EmbeddingSize { get; init; }
    [JsonPropertyName("vocab_size")] public required int VocabularySize { get; init; }

    /// <summary>SHA-256 of the token list (tokenizer.ggml.tokens).</summary>
    [JsonPropertyName("token_list_hash")] public required string TokenListHash { get; init; }

    [JsonPropertyName("file_name")] public string? FileName { get; init; }
    [JsonPropertyName("file_type")] public uint? FileType { get; init; }
}

/// <summary>How prompts were built in training (and must be built when serving).</summary>
public sealed record PromptSettings
{
    /// <summary>"gguf" for the model's own template, else a name from prompts/chat-templates.</summary>
    [JsonPropertyName("template")] public string Template { get; init; } = "gguf";
    [JsonPropertyName("system")] public string? System { get; init; }
}

/// <summary>What went into an adapter and how well it did.</summary>
public sealed record TrainingSummary
{
    [JsonPropertyName("data")] public string? Data { get; init; }
    [JsonPropertyName("records")] public int Records { get; init; }
    [JsonPropertyName("validation_records")] public int ValidationRecords { get; init; }
    [JsonPropertyName("steps")] public int Steps { get; init; }
    [JsonPropertyName("epochs")] public double Epochs { get; init; }
    [JsonPropertyName("final_train_loss")] public double? FinalTrainLoss { get; init; }
    [JsonPropertyName("final_validation_loss")] public double? FinalValidationLoss { get; init; }
    [JsonPropertyName("validation_exact_match")] public double? ValidationExactMatch { get; init; }
    [JsonPropertyName("validation_relaxed_accuracy")] public double? ValidationRelaxedAccuracy { get; init; }
    [JsonPropertyName("tuned")] public string Tuned { get; init; } = "projector";
    [JsonPropertyName("created_utc")] public DateTime CreatedUtc { get; init; } = DateTime.UtcNow;
}

/// <summary>adapter.json: everything needed to use projector.safetensors correctly, and to refuse using it wrongly.</summary>
public sealed record AdapterManifest
{
    public const string CurrentFormat = "webssl-adapter/1";

    [JsonPropertyName("format")] public string Format { get; init; } = CurrentFormat;
    [JsonPropertyName("projector")] public required ProjectorConfig Projector { get; init; }
    [JsonPropertyName("encoder")] public required EncoderIdentity Encoder { get; init; }
    [JsonPropertyName("llm")] public required LlmIdentity Llm { get; init; }
    [JsonPropertyName("prompt")] public PromptSettings Prompt { get; init; } = new();
    [JsonPropertyName("training")] public TrainingSummary? Training { get; init; }
}
