using TorchSharp;
using WebSsl.Vision.Images.Tiling;
using static TorchSharp.torch;

namespace WebSsl.Multimodal.Projectors;

/// <summary>
/// LLaVA's mm_projector: an nn.Sequential of Linear layers with exact GELU between them, whose parameters are named as the
/// Sequential indices name them ("0.weight", "0.bias", "2.weight" ... for an MLP; "weight", "bias" for linear), so weights
/// trained by LLaVA-style code load one to one. The optional grid resize and token merge run first, on the patch tokens.
/// With a tiling scheme it also owns two learned embeddings that lay an image's views out for the LLM (LLaVA-NeXT's
/// <c>image_newline</c>): <c>view_separator</c> after the global view and <c>image_newline</c> after each row of tiles.
/// </summary>
public sealed class Projector : nn.Module<Tensor, Tensor>
{
    private readonly List<TorchSharp.Modules.Linear> _layers = [];
    private readonly TorchSharp.Modules.Parameter? _imageNewline;
    private readonly TorchSharp.Modules.Parameter? _viewSeparator;

    public Projector(ProjectorConfig config) : base("Projector")
    {
        config.Validate();
        Config = config;
        if (config.Depth == 1)
        {
            // A plain nn.Linear: its parameters are the module's own "weight" and "bias".
            var linear = nn.Linear(config.MergedInputSize, config.OutputSize);
            _layers.Add(linear);
            register_parameter("weight", linear.weight!);
            register_parameter("bias", linear.bias!);
        }
        else
        {
            for (int i = 0; i < config.Depth; i++)
            {
                var linear = nn.Linear(i == 0 ? config.MergedInputSize : config.OutputSize, config.OutputSize);
                _layers.Add(linear);
                register_module((2 * i).ToString(System.Globalization.CultureInfo.InvariantCulture), linear);
            }
        }
        if (config.Tiling is not null)
        {
            // LLaVA-NeXT's initialization of image_newline: a random direction of the embedding's typical scale.
            double scale = 1.0 / Math.Sqrt(config.OutputSize);
            _imageNewline = new TorchSharp.Modules.Parameter(randn(config.OutputSize) * scale);
            _viewSeparator = new TorchSharp.Modules.Parameter(randn(config.OutputSize) * scale);
            register_parameter("image_newline", _imageNewline);
            register_parameter("view_separator", _viewSeparator);
        }
    }

    public ProjectorConfig Config { get; }

    /// <summary>Patch tokens [B, N, input] of B views (N a square number when a grid or merge is set) to LLM embeddings [B, N', output].</summary>
    public override Tensor forward(Tensor patches)
    {
        if (patches.dim() != 3 || patches.shape[2] != Config.InputSize)
        {
            throw new ArgumentException($"projector input must be [batch, tokens, {Config.InputSize}], got [{string.Join(", ", patches.shape)}].");
        }
        Tensor x = MergeTokens(ResizeGrid(patches, Config.TokenGrid), Config.TokenMerge);
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

    /// <summary>How many tokens come out of one view of <paramref name="patches"/> tokens.</summary>
    public int OutputTokens(int patches) => OutputTokensOf(Config, patches);

    /// <summary>Embedding rows an image laid out as <paramref name="layout"/> becomes, for views of <paramref name="patches"/> tokens.</summary>
    public int Rows(ViewLayout layout, int patches) => RowsOf(Config, layout, patches);

    /// <summary>Tokens a projector of <paramref name="config"/> makes of one view of <paramref name="patches"/> tokens.</summary>
    public static int OutputTokensOf(ProjectorConfig config, int patches)
    {
        int tokens = config.TokenGrid is int grid ? grid * grid : patches;
        return config.TokenMerge is int merge ? tokens / (merge * merge) : tokens;
    }

    /// <summary>
    /// Rows of <see cref="Arrange"/>'s layout: the global view; with tiles also the view separator, every tile and one
    /// row break per row of tiles.
    /// </summary>
    public static int RowsOf(ProjectorConfig config, ViewLayout layout, int patches)
    {
        int perView = OutputTokensOf(config, patches);
        return layout.HasTiles ? perView + 1 + layout.Grid.Count * perView + layout.Grid.Rows : perView;
    }

    /// <summary>
    /// The LLM's rows for one image from its projected views [V, T, output] (global view first, then the tiles in reading
    /// order): the global view, <c>view_separator</c>, then each row of tiles followed by <c>image_newline</c>.
    /// Differentiable, so training learns the separators through the same layout that serving uses.
    /// </summary>
    public Tensor Arrange(Tensor views, ViewLayout layout)
    {
        if (views.dim() != 3 || views.shape[0] != layout.Views)
        {
            throw new ArgumentException($"a {layout} layout needs {layout.Views} projected views, got [{string.Join(", ", views.shape)}].");
        }
        if (!layout.HasTiles)
        {
            return views[0];
        }
        if (_imageNewline is null || _viewSeparator is null)
        {
            throw new InvalidOperationException("this projector was trained without tiles; its images have one view.");
        }
        var rows = new List<Tensor> { views[0], _viewSeparator.unsqueeze(0) };
        for (int row = 0; row < layout.Grid.Rows; row++)
        {
            for (int column = 0; column < layout.Grid.Columns; column++)
            {
                rows.Add(views[1 + row * layout.Grid.Columns + column]);
            }
            rows.Add(_imageNewline.unsqueeze(0));
        }
        return cat(rows.ToArray());
    }

    /// <summary>
    /// Bilinear resize of a square patch grid to grid x grid (align_corners=False), as the Web-SSL paper's MLLM setup does
    /// to bring every resolution to 576 tokens.
    /// </summary>
    public static Tensor ResizeGrid(Tensor patches, int? grid)
    {
        if (grid is null)
        {
            return patches;
        }
        long side = SquareSide(patches, "a token-grid resize");
        if (side == grid)
        {
            return patches;
        }
        long batch = patches.shape[0], dim = patches.shape[2];
        Tensor image = patches.reshape(batch, side, side, dim).permute(0, 3, 1, 2);
        Tensor resized = nn.functional.interpolate(image, size: [grid.Value, grid.Value], mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.permute(0, 2, 3, 1).reshape(batch, (long)grid.Value * grid.Value, dim);
    }

    /// <summary>
    /// Space-to-depth over the patch grid (InternVL's pixel shuffle): each <paramref name="merge"/>×<paramref name="merge"/>
    /// block of neighbouring features [B, side², D] becomes one token [B, (side/merge)², merge²·D], the block's features
    /// concatenated row by row, so nothing is averaged away and the LLM sees merge² times fewer positions.
    /// </summary>
    public static Tensor MergeTokens(Tensor patches, int? merge)
    {
        if (merge is not int m)
        {
            return patches;
        }
        long side = SquareSide(patches, "a token merge");
        if (side % m != 0)
        {
            throw new BadInputException($"a {side}x{side} patch grid cannot be merged in {m}x{m} blocks; use a resolution (or token grid) whose side is a multiple of {m} patches.");
        }
        long batch = patches.shape[0], dim = patches.shape[2], merged = side / m;
        return patches.reshape(batch, merged, m, merged, m, dim)
            .permute(0, 1, 3, 2, 4, 5)
            .reshape(batch, merged * merged, (long)m * m * dim);
    }

    private static long SquareSide(Tensor patches, string what)
    {
        long n = patches.shape[1];
        long side = (long)Math.Round(Math.Sqrt(n));
        if (side * side != n)
        {
            throw new BadInputException($"{n} patch tokens do not form a square grid; {what} needs one (drop the CLS token first).");
        }
        return side;
    }
}
