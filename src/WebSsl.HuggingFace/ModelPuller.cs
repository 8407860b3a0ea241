using System.Text.Json;

namespace WebSsl.HuggingFace;

/// <summary>What a pull produced: the snapshot folder (an encoder checkpoint as transformers expects it) or the one file pulled.</summary>
public sealed record PullResult(string Repo, string Commit, string Path, IReadOnlyList<PulledFile> Files)
{
    public long Bytes => Files.Sum(f => f.Size);

    public long DownloadedBytes => Files.Where(f => f.Downloaded).Sum(f => f.Size);
}

/// <summary>
/// Pulls what the assistant needs from a repository: for an encoder, <c>config.json</c>, <c>preprocessor_config.json</c>
/// when present and the weights (a single <c>model.safetensors</c>, or the index and every shard it names); for a GGUF
/// repository, the one file asked for. Short names from <see cref="ModelCatalog"/> or full repository ids.
/// </summary>
public sealed class ModelPuller(HubClient client)
{
    public const string SafetensorsIndex = "model.safetensors.index.json";

    public async Task<PullResult> PullAsync(string nameOrRepo, string? file = null, string revision = "main", IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        CatalogEntry? entry = ModelCatalog.Find(nameOrRepo);
        string repo = entry?.Repo ?? HubNames.CheckRepo(nameOrRepo);
        file ??= entry?.File;
        if (file is not null)
        {
            return file.EndsWith(".safetensors.index.json", StringComparison.Ordinal)
                ? await PullShardedAsync(repo, file, revision, [], progress, cancellationToken).ConfigureAwait(false)
                : await PullFileAsync(repo, file, revision, progress, cancellationToken).ConfigureAwait(false);
        }

        HubRepoInfo info;
        try
        {
            info = client.Options.Offline
                ? throw new HubException(HubErrorKind.Unavailable, $"{repo}: listing a repository needs the hub (HF_HUB_OFFLINE is set).")
                : await client.GetRepoInfoAsync(repo, revision, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException e) when (e.Kind == HubErrorKind.Unavailable && Cached(repo, revision) is PullResult cached)
        {
            return cached; // no hub, but this revision was pulled before: what huggingface_hub does offline too
        }
        var ggufs = info.Files.Where(f => f.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).ToList();
        if (ggufs.Count > 0 && !info.Files.Contains("config.json"))
        {
            throw new BadInputException($"{repo} holds {ggufs.Count} GGUF files; choose one with --file: {string.Join(", ", ggufs.Take(12))}{(ggufs.Count > 12 ? ", …" : "")}.");
        }
        if (!info.Files.Contains("config.json"))
        {
            throw new HubException(HubErrorKind.FileNotFound, $"{repo}@{revision} has no config.json: not a transformers checkpoint (files: {string.Join(", ", info.Files.Take(12))}).");
        }
        var extras = new List<string> { "config.json" };
        if (info.Files.Contains("preprocessor_config.json"))
        {
            extras.Add("preprocessor_config.json");
        }
        // Pinned to the listed commit, so every file comes from the same snapshot even if the branch moves meanwhile.
        string commit = info.Commit;
        if (info.Files.Contains("model.safetensors"))
        {
            var files = new List<PulledFile>();
            foreach (string f in extras.Append("model.safetensors"))
            {
                files.Add(await client.DownloadAsync(repo, f, commit, progress, cancellationToken).ConfigureAwait(false));
            }
            client.Cache.WriteRef(repo, revision, commit);
            return new PullResult(repo, commit, client.Cache.SnapshotFolder(repo, commit), files);
        }
        if (info.Files.Contains(SafetensorsIndex))
        {
            PullResult sharded = await PullShardedAsync(repo, SafetensorsIndex, commit, extras, progress, cancellationToken).ConfigureAwait(false);
            client.Cache.WriteRef(repo, revision, commit);
            return sharded;
        }
        throw new HubException(HubErrorKind.FileNotFound,
            $"{repo}@{revision} has neither model.safetensors nor {SafetensorsIndex} (only safetensors weights are loaded; files: {string.Join(", ", info.Files.Take(12))}).");
    }

    /// <summary>A snapshot pulled before: its folder and files, or null.</summary>
    private PullResult? Cached(string repo, string revision)
    {
        if (client.Cache.ResolveRevision(repo, revision) is not string commit || !Directory.Exists(client.Cache.SnapshotFolder(repo, commit)))
        {
            return null;
        }
        string folder = client.Cache.SnapshotFolder(repo, commit);
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => new PulledFile(repo, Path.GetRelativePath(folder, f).Replace('\\', '/'), f, HubCache.Length(new FileInfo(f)), commit, Downloaded: false, Sha256: null))
            .ToList();
        return files.Any(f => f.File == "config.json") ? new PullResult(repo, commit, folder, files) : null;
    }

    private async Task<PullResult> PullFileAsync(string repo, string file, string revision, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        PulledFile pulled = await client.DownloadAsync(repo, file, revision, progress, cancellationToken).ConfigureAwait(false);
        return new PullResult(repo, pulled.Commit, pulled.Path, [pulled]);
    }

    /// <summary>The index first, then every shard its weight_map names, all at the index's commit.</summary>
    private async Task<PullResult> PullShardedAsync(string repo, string indexFile, string revision, IReadOnlyList<string> extras,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        PulledFile index = await client.DownloadAsync(repo, indexFile, revision, progress, cancellationToken).ConfigureAwait(false);
        string commit = index.Commit;
        string folder = Path.GetDirectoryName(indexFile.Replace('/', Path.DirectorySeparatorChar)) is { Length: > 0 } sub ? sub.Replace('\\', '/') + "/" : "";
        var files = new List<PulledFile>();
        foreach (string extra in extras)
        {
            files.Add(await client.DownloadAsync(repo, extra, commit, progress, cancellationToken).ConfigureAwait(false));
        }
        files.Add(index);
        foreach (string shard in ShardsOf(index.Path, indexFile))
        {
            files.Add(await client.DownloadAsync(repo, folder + shard, commit, progress, cancellationToken).ConfigureAwait(false));
        }
        return new PullResult(repo, commit, client.Cache.SnapshotFolder(repo, commit), files);
    }

    /// <summary>The distinct shard names in an index's weight_map, each a plain file name.</summary>
    public static IReadOnlyList<string> ShardsOf(string indexPath, string name)
    {
        try
        {
            using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            var shards = json.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.GetString() ?? "").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            foreach (string shard in shards)
            {
                if (shard.Length == 0 || shard.Contains('/') || shard.Contains('\\') || shard is "." or "..")
                {
                    throw new HubException(HubErrorKind.Protocol, $"{name}: shard '{shard}' is not a plain file name.");
                }
            }
            return shards.Count > 0 ? shards : throw new HubException(HubErrorKind.Protocol, $"{name}: weight_map is empty.");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new HubException(HubErrorKind.Protocol, $"{name}: not a safetensors index (a JSON object with weight_map): {e.Message}", e);
        }
    }
}
