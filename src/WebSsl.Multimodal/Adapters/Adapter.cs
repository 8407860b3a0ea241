using System.Text.Json;
using WebSsl.Multimodal.Projectors;
using WebSsl.Vision.Checkpoints;
using static TorchSharp.torch;

namespace WebSsl.Multimodal.Adapters;

/// <summary>
/// An adapter folder: <c>adapter.json</c> (see <see cref="AdapterManifest"/>) and <c>projector.safetensors</c>. Loading is
/// strict (every projector tensor present, exact shapes); saving writes a new folder under a temporary name and renames it,
/// so a half-written adapter never looks complete.
/// </summary>
public sealed class Adapter : IDisposable
{
    public const string ManifestFile = "adapter.json";
    public const string WeightsFile = "projector.safetensors";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public Adapter(AdapterManifest manifest, Projector projector)
    {
        Manifest = manifest;
        Projector = projector;
    }

    public AdapterManifest Manifest { get; }

    public Projector Projector { get; }

    public string? Directory { get; private init; }

    /// <summary>Loads and checks an adapter; with identities given, refuses one trained for another encoder or LLM.</summary>
    public static Adapter Load(string directory, EncoderIdentity? encoder = null, LlmIdentity? llm = null)
    {
        directory = Path.GetFullPath(directory);
        string manifestPath = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifestPath))
        {
            throw new FileNotFoundException($"{directory}: not an adapter folder ({ManifestFile} is missing).", manifestPath);
        }
        AdapterManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<AdapterManifest>(File.ReadAllText(manifestPath), Json)
                ?? throw new InvalidModelException($"{manifestPath}: empty manifest.", "invalid-adapter");
        }
        catch (JsonException e)
        {
            throw new InvalidModelException($"{manifestPath}: not a valid adapter manifest ({e.Message}).", "invalid-adapter", e);
        }
        if (manifest.Format != AdapterManifest.CurrentFormat)
        {
            throw new InvalidModelException($"{manifestPath}: format '{manifest.Format}' is not supported (expected {AdapterManifest.CurrentFormat}).", "invalid-adapter");
        }
        List<string> differences = Identities.Differences(manifest, encoder, llm);
        if (differences.Count > 0)
        {
            throw new AdapterMismatchException(directory, differences);
        }
        var projector = new Projector(manifest.Projector);
        try
        {
            LoadWeights(projector, Path.Combine(directory, WeightsFile));
            projector.eval();
            return new Adapter(manifest, projector) { Directory = directory };
        }
        catch
        {
            projector.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes adapter.json and projector.safetensors into <paramref name="directory"/> (other files there, such as a
    /// training run's logs, are left alone). Each file is written under a temporary name and renamed, the manifest last,
    /// so a folder whose manifest is present always holds the weights it describes.
    /// </summary>
    public void Save(string directory)
    {
        directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(directory);
        string manifest = Path.Combine(directory, ManifestFile), weights = Path.Combine(directory, WeightsFile);
        File.Delete(manifest);
        SaveWeights(Projector, weights + ".partial");
        File.Move(weights + ".partial", weights, overwrite: true);
        File.WriteAllText(manifest + ".partial", JsonSerializer.Serialize(Manifest, Json));
        File.Move(manifest + ".partial", manifest, overwrite: true);
    }

    public static void SaveWeights(Projector projector, string path)
    {
        using var scope = NewDisposeScope();
        SafetensorsWriter.Write(path, projector.named_parameters().Select(p => KeyValuePair.Create(p.name, p.parameter.detach().cpu())),
            SafetensorsDType.F32, new Dictionary<string, string> { ["format"] = "pt", ["projector"] = projector.Config.Type });
    }

    /// <summary>Strict load: the file holds exactly the projector's tensors, with their shapes.</summary>
    public static void LoadWeights(Projector projector, string path)
    {
        using SafetensorsFile file = SafetensorsFile.Open(path);
        var parameters = projector.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (string name in file.Tensors.Keys.Where(k => !parameters.ContainsKey(k)))
        {
            throw new CheckpointException(path, name, $"is not a parameter of a {projector.Config.Type} projector.");
        }
        using (no_grad())
        {
            foreach (var (name, parameter) in parameters)
            {
                if (!file.Tensors.TryGetValue(name, out SafetensorsTensorInfo? info))
                {
                    throw new CheckpointException(path, name, $"missing; a {projector.Config.Type} projector {projector.Config.InputSize} -> {projector.Config.OutputSize} needs it.");
                }
                if (!info.Shape.SequenceEqual(parameter.shape))
                {
                    throw new CheckpointException(path, name, $"has shape {SafetensorsFile.FormatShape(info.Shape)}, expected {SafetensorsFile.FormatShape(parameter.shape)}.");
                }
                file.ReadInto(name, parameter);
            }
        }
    }

    public void Dispose() => Projector.Dispose();
}
