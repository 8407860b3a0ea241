using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp.Modules;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Projectors;

namespace WebSsl.Training.Runs;

/// <summary>What must match for a checkpoint to continue a run: resuming with other settings would not be the same run.</summary>
public sealed record RunFingerprint
{
    [JsonPropertyName("total_steps")] public required int TotalSteps { get; init; }
    [JsonPropertyName("batch_size")] public required int BatchSize { get; init; }
    [JsonPropertyName("gradient_accumulation")] public required int GradientAccumulation { get; init; }
    [JsonPropertyName("learning_rate")] public required double LearningRate { get; init; }
    [JsonPropertyName("seed")] public required int Seed { get; init; }
    [JsonPropertyName("train_records")] public required int TrainRecords { get; init; }
    [JsonPropertyName("projector")] public required ProjectorConfig Projector { get; init; }
    [JsonPropertyName("tune")] public string Tune { get; init; } = "projector";
}

/// <summary>
/// A checkpoint folder, checkpoints/step-NNNNNNNN: projector weights, the LLM's and encoder's weights when they are tuned,
/// optimizer state (TorchSharp's AdamW state) and the step. Written under a temporary name and renamed: a folder with the final name is always complete.
/// </summary>
public static class TrainingCheckpoint
{
    private const string StateFile = "state.json";
    private const string OptimizerFile = "optimizer.bin";

    public static string Folder(string output) => Path.Combine(output, "checkpoints");

    internal static void Save(string output, int step, RunFingerprint fingerprint, TunedModels models, AdamW optimizer, int keep)
    {
        string root = Folder(output);
        Directory.CreateDirectory(root);
        string final = Path.Combine(root, $"step-{step:D8}");
        string temporary = final + ".partial";
        if (Directory.Exists(temporary))
        {
            Directory.Delete(temporary, recursive: true);
        }
        Directory.CreateDirectory(temporary);
        Adapter.SaveWeights(models.Projector, Path.Combine(temporary, Adapter.WeightsFile));
        models.SaveParts(temporary);
        using (var stream = File.Create(Path.Combine(temporary, OptimizerFile)))
        using (var writer = new BinaryWriter(stream))
        {
            optimizer.save_state_dict(writer);
        }
        File.WriteAllText(Path.Combine(temporary, StateFile), JsonSerializer.Serialize(new State(step, fingerprint)));
        if (Directory.Exists(final))
        {
            Directory.Delete(final, recursive: true);
        }
        Directory.Move(temporary, final);
        foreach (string old in Completed(output).SkipLast(Math.Max(1, keep)))
        {
            Directory.Delete(old, recursive: true);
        }
    }

    /// <summary>The newest complete checkpoint folder, or null.</summary>
    public static string? Latest(string output) => Completed(output).LastOrDefault();

    /// <summary>Restores the trained weights and the optimizer; returns the step the checkpoint was taken after.</summary>
    internal static int Load(string checkpoint, RunFingerprint expected, TunedModels models, AdamW optimizer)
    {
        var state = JsonSerializer.Deserialize<State>(File.ReadAllText(Path.Combine(checkpoint, StateFile)))
            ?? throw new InvalidModelException($"{checkpoint}: empty {StateFile}.", "invalid-checkpoint");
        if (state.Fingerprint != expected)
        {
            throw new TrainingSetupException(
                $"{checkpoint}: this checkpoint belongs to a run with other settings ({JsonSerializer.Serialize(state.Fingerprint)}); " +
                $"this run has {JsonSerializer.Serialize(expected)}. Use another --out folder, or --no-resume to start over.");
        }
        Adapter.LoadWeights(models.Projector, Path.Combine(checkpoint, Adapter.WeightsFile));
        models.LoadParts(checkpoint);
        using (var stream = File.OpenRead(Path.Combine(checkpoint, OptimizerFile)))
        using (var reader = new BinaryReader(stream))
        {
            optimizer.load_state_dict(reader);
        }
        return state.Step;
    }

    private static IEnumerable<string> Completed(string output)
    {
        string root = Folder(output);
        return Directory.Exists(root)
            ? Directory.GetDirectories(root, "step-*").Where(d => !d.EndsWith(".partial", StringComparison.Ordinal) && File.Exists(Path.Combine(d, StateFile))).Order(StringComparer.Ordinal)
            : [];
    }

    private sealed record State([property: JsonPropertyName("step")] int Step, [property: JsonPropertyName("fingerprint")] RunFingerprint Fingerprint);
}
