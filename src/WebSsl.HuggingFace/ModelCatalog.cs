namespace WebSsl.HuggingFace;

public enum ModelKind
{
    Encoder,
    Llm,
    Adapter,
}

/// <summary>A short name for a published model: the repository, and for GGUF repositories the one file to take.</summary>
public sealed record CatalogEntry(string Name, string Repo, ModelKind Kind, string? File, string Description);

/// <summary>
/// Short names for the published Web-SSL checkpoints (facebook/webssl-*, as listed by facebookresearch/webssl) and a few
/// small instruct LLMs in GGUF that suit the assistant. Any other repository works by its full id.
/// </summary>
public static class ModelCatalog
{
    public static IReadOnlyList<CatalogEntry> Entries { get; } =
    [
        Dino("webssl-dino300m-full2b-224", "Web-DINO ViT-L/14, 0.3B, 224 px, MC-2B"),
        Dino("webssl-dino1b-full2b-224", "Web-DINO 1.1B, 224 px, MC-2B"),
        Dino("webssl-dino2b-full2b-224", "Web-DINO 2.1B, 224 px, MC-2B"),
        Dino("webssl-dino3b-full2b-224", "Web-DINO 3.0B, 224 px, MC-2B"),
        Dino("webssl-dino5b-full2b-224", "Web-DINO 4.9B, 224 px, MC-2B"),
        Dino("webssl-dino7b-full8b-224", "Web-DINO 6.5B, 224 px, 8B images"),
        Dino("webssl-dino7b-full8b-378", "Web-DINO 6.5B, 378 px, 8B images"),
        Dino("webssl-dino7b-full8b-518", "Web-DINO 6.5B, 518 px, 8B images (best overall)"),
        Dino("webssl-dino2b-light2b-224", "Web-DINO 2.1B, 224 px, MC-2B light (images with text)"),
        Dino("webssl-dino2b-heavy2b-224", "Web-DINO 2.1B, 224 px, MC-2B heavy (charts and documents)"),
        Dino("webssl-dino3b-light2b-224", "Web-DINO 3.0B, 224 px, MC-2B light (images with text)"),
        Dino("webssl-dino3b-heavy2b-224", "Web-DINO 3.0B, 224 px, MC-2B heavy (charts and documents)"),
        Dino("webssl-mae300m-full2b-224", "Web-MAE ViT-L/16, 0.3B, 224 px"),
        Dino("webssl-mae700m-full2b-224", "Web-MAE 0.7B, patch 14, 224 px"),
        Dino("webssl-mae1b-full2b-224", "Web-MAE 1B, patch 14, 224 px"),
        Dino("webssl-mae2b-full2b-224", "Web-MAE 2B, patch 14, 224 px"),
        Dino("webssl-mae3b-full2b-224", "Web-MAE 3B, patch 14, 224 px"),
        new("qwen2.5-0.5b-instruct", "Qwen/Qwen2.5-0.5B-Instruct-GGUF", ModelKind.Llm, "qwen2.5-0.5b-instruct-q8_0.gguf",
            "Qwen2.5 0.5B Instruct, Q8_0 (0.7 GB); serves and trains"),
        new("qwen2.5-1.5b-instruct", "Qwen/Qwen2.5-1.5B-Instruct-GGUF", ModelKind.Llm, "qwen2.5-1.5b-instruct-q8_0.gguf",
            "Qwen2.5 1.5B Instruct, Q8_0 (1.9 GB); serves and trains"),
        new("qwen2.5-3b-instruct", "Qwen/Qwen2.5-3B-Instruct-GGUF", ModelKind.Llm, "qwen2.5-3b-instruct-q4_k_m.gguf",
            "Qwen2.5 3B Instruct, Q4_K_M (2.1 GB); serves and trains"),
        new("smollm2-1.7b-instruct", "HuggingFaceTB/SmolLM2-1.7B-Instruct-GGUF", ModelKind.Llm, "smollm2-1.7b-instruct-q4_k_m.gguf",
            "SmolLM2 1.7B Instruct (llama), Q4_K_M (1.1 GB); serves and trains"),
        new("llama-3.2-1b-instruct", "bartowski/Llama-3.2-1B-Instruct-GGUF", ModelKind.Llm, "Llama-3.2-1B-Instruct-Q8_0.gguf",
            "Llama 3.2 1B Instruct, Q8_0 (1.3 GB); serves (training refuses its llama3 rope scaling)"),
    ];

    public static CatalogEntry? Find(string name) =>
        Entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(e.Repo, name, StringComparison.OrdinalIgnoreCase));

    private static CatalogEntry Dino(string name, string description) => new(name, "facebook/" + name, ModelKind.Encoder, null, description);
}
