using System.Text.Json;

namespace WebSsl.HuggingFace;

/// <summary>A model found on disk: what it is, where, how big, and where it came from (the hub cache or a folder).</summary>
public sealed record LocalModel(ModelKind Kind, string Name, string Path, long Bytes, string Source, string Detail);

/// <summary>
/// What is local: encoders (a folder with config.json of model_type dinov2 or vit and safetensors weights), GGUF LLMs and
/// adapters (a folder with adapter.json), in the hub cache and in the given folders.
/// </summary>
public static class LocalModels
{
    public static IReadOnlyList<LocalModel> Scan(HubCache cache, IEnumerable<string> folders)
    {
        var found = new List<LocalModel>();
        foreach (CachedRepo repo in cache.List())
        {
            string source = $"hub cache ({repo.Commit[..Math.Min(8, repo.Commit.Length)]})";
            if (Encoder(repo.Folder) is string encoderDetail)
            {
                found.Add(new LocalModel(ModelKind.Encoder, repo.Repo, repo.Folder, repo.Length, source, encoderDetail));
            }
            foreach (CachedFile gguf in repo.Files.Where(f => f.Name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)))
            {
                found.Add(new LocalModel(ModelKind.Llm, $"{repo.Repo}/{gguf.Name}", gguf.Path, gguf.Length, source, "GGUF"));
            }
        }
        foreach (string folder in folders.Where(Directory.Exists).Select(Path.GetFullPath).Distinct(StringComparer.Ordinal))
        {
            ScanFolder(folder, folder, found, depth: 0);
        }
        return found;
    }

    private static void ScanFolder(string root, string folder, List<LocalModel> found, int depth)
    {
        string source = root;
        string name = Path.GetRelativePath(Path.GetDirectoryName(root) ?? root, folder);
        if (File.Exists(Path.Combine(folder, "adapter.json")))
        {
            found.Add(new LocalModel(ModelKind.Adapter, name, folder, FolderBytes(folder), source, AdapterDetail(folder)));
            return;
        }
        if (Encoder(folder) is string detail)
        {
            found.Add(new LocalModel(ModelKind.Encoder, name, folder, FolderBytes(folder), source, detail));
            return;
        }
        IEnumerable<string> files, subfolders;
        try
        {
            files = Directory.EnumerateFiles(folder, "*.gguf").Order(StringComparer.Ordinal).ToList();
            subfolders = depth < 4 ? Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal).ToList() : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string gguf in files)
        {
            found.Add(new LocalModel(ModelKind.Llm, Path.GetRelativePath(Path.GetDirectoryName(root) ?? root, gguf), gguf, HubCache.Length(new FileInfo(gguf)), source, "GGUF"));
        }
        foreach (string sub in subfolders.Where(s => !Path.GetFileName(s).StartsWith('.')))
        {
            ScanFolder(root, sub, found, depth + 1);
        }
    }

    /// <summary>"dinov2, 24 layers, 1024 wide" for an encoder checkpoint folder; null for anything else.</summary>
    private static string? Encoder(string folder)
    {
        string config = Path.Combine(folder, "config.json");
        bool weights = File.Exists(Path.Combine(folder, "model.safetensors")) || File.Exists(Path.Combine(folder, "model.safetensors.index.json"));
        if (!File.Exists(config) || !weights)
        {
            return null;
        }
        try
        {
            using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(config));
            JsonElement root = json.RootElement;
            string type = root.TryGetProperty("model_type", out JsonElement t) ? t.GetString() ?? "" : "";
            if (type is not ("dinov2" or "vit"))
            {
                return null;
            }
            string layers = root.TryGetProperty("num_hidden_layers", out JsonElement l) ? l.ToString() : "?";
            string width = root.TryGetProperty("hidden_size", out JsonElement w) ? w.ToString() : "?";
            string size = root.TryGetProperty("image_size", out JsonElement s) ? s.ToString() : "?";
            return $"{type}, {layers} layers, {width} wide, {size} px";
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return null; // not an encoder folder this listing understands
        }
    }

    private static string AdapterDetail(string folder)
    {
        try
        {
            using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "adapter.json")));
            JsonElement root = json.RootElement;
            string projector = root.TryGetProperty("projector", out JsonElement p) && p.TryGetProperty("type", out JsonElement pt) ? pt.GetString() ?? "?" : "?";
            string encoder = root.TryGetProperty("encoder", out JsonElement e) && e.TryGetProperty("name", out JsonElement en) ? en.GetString() ?? "?" : "?";
            return $"{projector} for {encoder}";
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return "adapter.json unreadable";
        }
    }

    private static long FolderBytes(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => HubCache.Length(new FileInfo(f)));
}
