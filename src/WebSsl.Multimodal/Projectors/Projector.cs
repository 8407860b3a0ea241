using TorchSharp;
using static TorchSharp.torch;

namespace WebSsl.Multimodal.Projectors;

/// <summary>
/// LLaVA's mm_projector: an nn.Sequential of Linear layers with exact GELU between them, whose parameters are named as the
/// Sequential indices name them ("0.weight", "0.bias", "2.weight" ... for an MLP; "weight", "bias" for linear), so weights
/// trained by LLaVA-style code load one to one. The optional grid resize runs first, on the patch tokens.
/// </summary>
public sealed class Projector : nn.Module<Tensor, Tensor>
{
    private readonly List<TorchSharp.Modules.Linear> _layers = [];

    public Projector(ProjectorConfig config) : base("Projector")
    {
        config.Validate();
        Config = config;
        if (config.Depth == 1)
        {
            // A plain nn.Linear: its parameters are the module's own "weight" and "bias".
            var linear = nn.Linear(config.InputSize, config.OutputSize);
            _layers.Add(linear);
            register_parameter("weight", linear.weight!);
            register_parameter("bias", linear.bias!);
        }
        else
        {
            for (int i = 0; i < config.Depth; i++)
            {
                var linear = nn.Linear(i == 0 ? config.InputSize : config.OutputSize, config.OutputSize);
                _layers.Add(linear);
                register_module((2 * i).ToString(System.Globalization.CultureInfo.InvariantCulture), linear);
            }
        }
    }

    public ProjectorConfig Config { get; }

    /// <summary>Patch tokens [B, N, input] (N a square number when a grid is set) to LLM embeddings [B, N', output].</summary>
    public override Tensor forward(Tensor patches)
    {
        if (patches.dim() != 3 || patches.shape[2] != Config.InputSize)
        {
            throw new ArgumentException($"projector input must be [batch, tokens, {Config.InputSize}], got [{string.Join(", ", patches.shape)}].");
        }
        Tensor x = ResizeGrid(patches, Config.TokenGrid);
        for (int i = 0; i < _layers.Count; i++)
        {
            x = _layers[i].forward(x);
            if (i < _layers.Count - 1)
            {
                x = nn.functional.gelu(x);
            }
        }
        return x;
    }

    /// <summary>How many tokens come out for <paramref name="patches"/> tokens in.</summary>
    public int OutputTokens(int patches) => Config.TokenGrid is int grid ? grid * grid : patches;

    /// <summary>
    /// Bilinear resize of a square patch grid to grid x grid (align_corners=False), as the Web-SSL paper's MLLM setup does
    /// to bring every resolution to 576 tokens.
    /// </summary>
    public static Tensor ResizeGrid(Tensor patches, int? grid)
    {
        long n = patches.shape[1];
        if (grid is null)
        {
            return patches;
        }
        long side = (long)Math.Round(Math.Sqrt(n));
        if (side * side != n)
        {
            throw new BadInputException($"{n} patch tokens do not form a square grid; a token-grid resize needs one (drop the CLS token first).");
        }
        if (side == grid)
        {
            return patches;
        }
        long batch = patches.shape[0], dim = patches.shape[2];
        Tensor image = patches.reshape(batch, side, side, dim).permute(0, 3, 1, 2);
        Tensor resized = nn.functional.interpolate(image, size: [grid.Value, grid.Value], mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.permute(0, 2, 3, 1).reshape(batch, (long)grid.Value * grid.Value, dim);
    }
}
