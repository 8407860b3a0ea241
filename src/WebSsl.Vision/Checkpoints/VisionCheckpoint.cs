using System.Text.Json;
using System.Text.Json.Nodes;
using WebSsl.Vision.Images;

namespace WebSsl.Vision.Checkpoints;

/// <summary>One tensor of a checkpoint: the file that holds it and its entry there.</summary>
public sealed record CheckpointTensor(SafetensorsFile File, SafetensorsTensorInfo Info);

/// <summary>
/// A HuggingFace checkpoint folder: <c>config.json</c>, weights in <c>model.safetensors</c> or in shards listed by
/// <c>model.safetensors.index.json</c>, and an optional <c>preprocessor_config.json</c>. Opening reads and cross-checks
/// every header (not the weights): the index and the shards must agree exactly.
/// </summary>
public sealed class VisionCheckpoint : IDisposable
{
    public const string ConfigFile = "config.json";
    public const string SingleWeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    public const string PreprocessorFile = "preprocessor_config.json";

    private readonly List<SafetensorsFile> _files;

    private VisionCheckpoint(string directory, VisionConfig config, PreprocessorConfig? preprocessor, List<SafetensorsFile> files,
        Dictionary<string, CheckpointTensor> tensors)
    {
        Directory = directory;
        Config = config;
        Preprocessor = preprocessor;
        _files = files;
        Tensors = tensors;
    }

    public string Directory { get; }

    public VisionConfig Config { get; }

    /// <summary>The folder's preprocessor_config.json, or null when it has none.</summary>
    public PreprocessorConfig? Preprocessor { get; }

    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>Every tensor by key, with any transformers base-model prefix ("dinov2.", "vit.") removed.</summary>
    public IReadOnlyDictionary<string, CheckpointTensor> Tensors { get; }

    /// <summary>Total stored bytes of all tensors.</summary>
    public long WeightBytes => Tensors.Values.Sum(t => t.Info.ByteLength);

    /// <summary>The storage type of most of the weights (what "the stored half type" means for CUDA compute).</summary>
    public SafetensorsDType StoredDType => Tensors.Values
        .GroupBy(t => t.Info.DType)
        .OrderByDescending(g => g.Sum(t => t.Info.ByteLength))
        .Select(g => g.Key)
        .DefaultIfEmpty(SafetensorsDType.F32)
        .First();

    /// <summary>A short name for the encoder: the folder name (HF cache snapshots use the repository name two levels up).</summary>
    public string Name
    {
        get
        {
            var folder = new DirectoryInfo(Directory);
            // ~/.cache/huggingface/hub/models--facebook--webssl-dino300m-full2b-224/snapshots/<sha>
            if (folder.Parent?.Name == "snapshots" && folder.Parent.Parent?.Name.StartsWith("models--", StringComparison.Ordinal) == true)
            {
                return folder.Parent.Parent.Name["models--".Length..].Replace("--", "/", StringComparison.Ordinal);
            }
            return folder.Name;
        }
    }

    public static VisionCheckpoint Open(string directory)
    {
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new CheckpointException(directory, null, "checkpoint folder not found.");
        }
        VisionConfig config = VisionConfig.Load(Path.Combine(directory, ConfigFile));
        string preprocessorPath = Path.Combine(directory, PreprocessorFile);
        PreprocessorConfig? preprocessor = File.Exists(preprocessorPath) ? PreprocessorConfig.Load(preprocessorPath) : null;

        var files = new List<SafetensorsFile>();
        try
        {
            Dictionary<string, CheckpointTensor> tensors = OpenWeights(directory, files);
            return new VisionCheckpoint(directory, config, preprocessor, files, StripBasePrefix(tensors, config));
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    private static Dictionary<string, CheckpointTensor> OpenWeights(string directory, List<SafetensorsFile> files)
    {
        string indexPath = Path.Combine(directory, IndexFile);
        string singlePath = Path.Combine(directory, SingleWeightsFile);
        var tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        if (File.Exists(indexPath))
        {
            Dictionary<string, string> weightMap = ReadWeightMap(indexPath);
            foreach (string shardName in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                string shardPath = Path.Combine(directory, shardName);
                if (!File.Exists(shardPath))
                {
                    throw new CheckpointException(indexPath, null, $"lists shard '{shardName}', which is not in the folder (download incomplete?).");
                }
                SafetensorsFile shard = SafetensorsFile.Open(shardPath);
                files.Add(shard);
                foreach (SafetensorsTensorInfo info in shard.Tensors.Values)
                {
                    if (!weightMap.TryGetValue(info.Name, out string? listed) || listed != shardName)
                    {
                        throw new CheckpointException(shardPath, info.Name,
                            listed is null ? "is in this shard but not in the index." : $"is in this shard but the index places it in '{listed}'.");
                    }
                    tensors[info.Name] = new CheckpointTensor(shard, info);
                }
            }
            foreach (var (key, shardName) in weightMap)
            {
                if (!tensors.ContainsKey(key))
                {
                    throw new CheckpointException(Path.Combine(directory, shardName), key, "is listed in the index but missing from this shard.");
                }
            }
            return tensors;
        }
        if (File.Exists(singlePath))
        {
            SafetensorsFile file = SafetensorsFile.Open(singlePath);
            files.Add(file);
            foreach (SafetensorsTensorInfo info in file.Tensors.Values)
            {
                tensors[info.Name] = new CheckpointTensor(file, info);
            }
            return tensors;
        }
        bool hasPickle = System.IO.Directory.EnumerateFiles(directory, "*.bin").Any();
        throw new CheckpointException(directory, null, hasPickle
            ? "has only PyTorch .bin weights; this project reads safetensors (model.safetensors or model.safetensors.index.json). Convert with transformers' save_pretrained(safe_serialization=True)."
            : $"has no {SingleWeightsFile} and no {IndexFile}.");
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        try
        {
            JsonNode? root = JsonNode.Parse(File.ReadAllText(indexPath));
            if (root?["weight_map"] is not JsonObject map)
            {
                throw new CheckpointException(indexPath, "weight_map", "missing; a shard index maps every tensor name to its shard file.");
            }
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in map)
            {
                string shard = value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : "";
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or "..")
                {
                    throw new CheckpointException(indexPath, key, $"shard name {value?.ToJsonString() ?? "null"} must be a plain file name in the checkpoint folder.");
                }
                result[key] = shard;
            }
            return result;
        }
        catch (JsonException e)
        {
            throw new CheckpointException(indexPath, null, $"not valid JSON ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Checkpoints saved from a transformers model with a head (e.g. Dinov2ForImageClassification) prefix the encoder's
    /// keys with the base model prefix; transformers strips it when loading the base model, and so do we. Keys outside
    /// the prefix stay as they are and are then refused as unexpected.
    /// </summary>
    private static Dictionary<string, CheckpointTensor> StripBasePrefix(Dictionary<string, CheckpointTensor> tensors, VisionConfig config)
    {
        string prefix = config.Architecture == VisionArchitecture.Dinov2 ? "dinov2." : "vit.";
        if (!tensors.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal)))
        {
            return tensors;
        }
        return tensors.ToDictionary(
            p => p.Key.StartsWith(prefix, StringComparison.Ordinal) ? p.Key[prefix.Length..] : p.Key,
            p => p.Value,
            StringComparer.Ordinal);
    }

    public void Dispose() => _files.ForEach(f => f.Dispose());
}
