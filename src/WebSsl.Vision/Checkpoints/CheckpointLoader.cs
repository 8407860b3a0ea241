using WebSsl.Vision.Models;
using static TorchSharp.torch;

namespace WebSsl.Vision.Checkpoints;

/// <summary>
/// Strict, streaming weight loading: every checkpoint key is used, every parameter is filled, every shape matches
/// exactly, and all of that is checked from the headers before a single weight is read. Each tensor is then read
/// straight into its parameter, so peak memory is the model plus at most one tensor.
/// </summary>
public static class CheckpointLoader
{
    private const int ProblemsShown = 8;

    public static void LoadInto(VisionTransformer model, VisionCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        Dictionary<string, Tensor> parameters = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
        IReadOnlyDictionary<string, long[]> unused = model.UnusedCheckpointKeys;
        var problems = new List<CheckpointException>();
        string describe = Describe(model.Config);

        foreach (var (name, parameter) in parameters)
        {
            if (!checkpoint.Tensors.TryGetValue(name, out CheckpointTensor? stored))
            {
                problems.Add(new CheckpointException(checkpoint.Directory, name,
                    $"missing from the checkpoint; {describe} needs it with shape {SafetensorsFile.FormatShape(parameter.shape)}."));
            }
            else if (!stored.Info.Shape.SequenceEqual(parameter.shape))
            {
                problems.Add(new CheckpointException(stored.File.Path, name,
                    $"has shape {SafetensorsFile.FormatShape(stored.Info.Shape)}, but {describe} expects {SafetensorsFile.FormatShape(parameter.shape)}."));
            }
        }
        foreach (var (name, stored) in checkpoint.Tensors)
        {
            if (parameters.ContainsKey(name))
            {
                continue;
            }
            if (unused.TryGetValue(name, out long[]? shape))
            {
                if (!stored.Info.Shape.SequenceEqual(shape))
                {
                    problems.Add(new CheckpointException(stored.File.Path, name,
                        $"has shape {SafetensorsFile.FormatShape(stored.Info.Shape)}, expected {SafetensorsFile.FormatShape(shape)}."));
                }
                continue;
            }
            problems.Add(new CheckpointException(stored.File.Path, name,
                $"is not a parameter of {describe}; refusing to load a checkpoint that does not match its config.json exactly."));
        }
        if (problems.Count > 0)
        {
            throw Summarize(problems);
        }

        using (no_grad())
        {
            foreach (var (name, parameter) in parameters)
            {
                cancellationToken.ThrowIfCancellationRequested();
                CheckpointTensor stored = checkpoint.Tensors[name];
                stored.File.ReadInto(stored.Info.Name, parameter);
            }
        }
    }

    private static string Describe(VisionConfig config) =>
        $"{(config.Architecture == VisionArchitecture.Dinov2 ? "Dinov2Model" : "ViTModel")} (hidden_size {config.HiddenSize}, " +
        $"{config.NumHiddenLayers} layers, patch {config.PatchSize}, image {config.ImageSize}" +
        (config.Architecture == VisionArchitecture.Dinov2 ? $", use_swiglu_ffn {config.UseSwiGluFfn.ToString().ToLowerInvariant()}" : "") + ")";

    private static CheckpointException Summarize(List<CheckpointException> problems)
    {
        CheckpointException first = problems[0];
        if (problems.Count == 1)
        {
            return first;
        }
        string more = string.Join(Environment.NewLine, problems.Skip(1).Take(ProblemsShown - 1).Select(p => "  " + p.Message));
        string rest = problems.Count > ProblemsShown ? $"{Environment.NewLine}  ... and {problems.Count - ProblemsShown} more" : "";
        return new CheckpointException(first.File, first.Key,
            $"{first.Problem}{Environment.NewLine}{problems.Count - 1} more problem(s):{Environment.NewLine}{more}{rest}");
    }
}
