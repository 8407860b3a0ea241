using WebSsl.Language.Engine;
using WebSsl.Vision.Images;

namespace WebSsl.Multimodal.Assistant;

/// <summary>What an assistant is made of and how much it may do at once. Bindable from configuration ("WebSslAssistant").</summary>
public sealed record AssistantOptions
{
    /// <summary>Web-SSL checkpoint folder (HuggingFace layout).</summary>
    public string EncoderPath { get; set; } = "";

    /// <summary>The GGUF the adapter was trained for (another quantization of it is fine).</summary>
    public string LlmPath { get; set; } = "";

    /// <summary>Adapter folder (adapter.json + projector.safetensors).</summary>
    public string AdapterPath { get; set; } = "";

    /// <summary>cpu, cuda or cuda:N for the encoder and projector.</summary>
    public string Device { get; set; } = "cpu";

    public int GpuLayers { get; set; }

    /// <summary>Images one question may carry; more are refused with a clear error.</summary>
    public int MaxImagesPerTurn { get; set; } = 4;

    /// <summary>
    /// Images one request may carry in all its messages (an OpenAI client resends the whole history with every call, and
    /// each image not in the cache is decoded); more are refused before any is decoded.
    /// </summary>
    public int MaxImagesPerRequest { get; set; } = 16;

    /// <summary>Longest question accepted, in characters.</summary>
    public int MaxQuestionCharacters { get; set; } = 16_000;

    /// <summary>Largest answer a request may ask for (max tokens); the engine's session size also bounds it.</summary>
    public int MaxAnswerTokens { get; set; } = 4096;

    /// <summary>How many images may be decoded at once, and how many may wait (the rest are told the server is busy).</summary>
    public ImageDecodeOptions Decoding { get; set; } = new();

    /// <summary>Encoder forward passes that may run at once (each may hold several images).</summary>
    public int EncoderParallelism { get; set; } = 1;

    /// <summary>How long the encoder waits for more images to batch with the first one.</summary>
    public TimeSpan EncoderBatchWindow { get; set; } = TimeSpan.FromMilliseconds(10);

    public int MaxEncoderBatch { get; set; } = 8;

    /// <summary>Most image tokens one image may become (with tiles: global view, tiles and separators); larger layouts are refused before encoding.</summary>
    public int MaxTokensPerImage { get; set; } = 8192;

    /// <summary>Memory for cached image embeddings (least recently used evicted first).</summary>
    public long EmbeddingCacheBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>A fresh instance, never the shared <see cref="ImageLimits.Default"/>: configuration binding sets properties in place.</summary>
    public ImageLimits ImageLimits { get; set; } = new();

    /// <summary>LLM serving capacity (sessions, queue, context).</summary>
    public EngineOptions Engine { get; set; } = new();

    /// <summary>libtorch / llama.cpp threads; null = one per core.</summary>
    public int? Threads { get; set; }
}
