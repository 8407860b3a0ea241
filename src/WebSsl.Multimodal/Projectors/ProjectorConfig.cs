using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using WebSsl.Vision.Images.Tiling;

namespace WebSsl.Multimodal.Projectors;

/// <summary>
/// A projector selected by name as in LLaVA: <c>linear</c>, <c>mlp2x_gelu</c> (Linear, exact GELU, Linear) or
/// <c>mlp{N}x_gelu</c>, from the encoder's width to the LLM's n_embd, optionally after resizing the patch grid and merging
/// neighbouring patches; with a tiling scheme, also the learned separators that lay the views out for the LLM.
/// </summary>
public sealed partial record ProjectorConfig
{
    public const string Default = "mlp2x_gelu";

    [JsonPropertyName("type")]
    public string Type { get; init; } = Default;

    /// <summary>Encoder hidden size (input width).</summary>
    [JsonPropertyName("input_size")]
    public required int InputSize { get; init; }

    /// <summary>LLM embedding size (output width).</summary>
    [JsonPropertyName("output_size")]
    public required int OutputSize { get; init; }

    /// <summary>Resize the square patch grid to TokenGrid x TokenGrid (bilinear) before projecting; null keeps the encoder's grid.</summary>
    [JsonPropertyName("token_grid")]
    public int? TokenGrid { get; init; }

    /// <summary>
    /// Merge each <c>n</c>×<c>n</c> block of neighbouring patch features into one token (InternVL's pixel shuffle with
    /// n = 2: four features concatenated, four times fewer tokens) before the first Linear; null merges nothing.
    /// </summary>
    [JsonPropertyName("token_merge")]
    public int? TokenMerge { get; init; }

    /// <summary>How images are cut into a global view and tiles; null reads every image as one view.</summary>
    [JsonPropertyName("tiling")]
    public TilingOptions? Tiling { get; init; }

    /// <summary>Width of the first Linear's input: the encoder's width times the tokens merged into one.</summary>
    [JsonIgnore]
    public int MergedInputSize => InputSize * (TokenMerge ?? 1) * (TokenMerge ?? 1);

    /// <summary>Number of Linear layers the type names (linear = 1, mlpNx_gelu = N).</summary>
    [JsonIgnore]
    public int Depth => Type == "linear" ? 1
        : MlpName().Match(Type) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
        : throw new BadInputException($"projector type '{Type}' is not known; use linear, mlp2x_gelu or mlp<N>x_gelu.");

    public void Validate()
    {
        if (Depth < 1 || InputSize < 1 || OutputSize < 1 || TokenGrid is < 1)
        {
            throw new BadInputException($"projector config out of range: {this}.");
        }
        if (TokenMerge is < 2 or > 4)
        {
            throw new BadInputException($"a token merge of {TokenMerge}x{TokenMerge} is not supported; use 2 (or 3, 4), or none.");
        }
        if (TokenMerge is int merge && TokenGrid is int grid && grid % merge != 0)
        {
            throw new BadInputException($"a token grid of {grid} cannot be merged in {merge}x{merge} blocks; choose a grid divisible by {merge}.");
        }
        Tiling?.Validate();
    }

    [GeneratedRegex("^mlp([1-9][0-9]?)x_gelu$")]
    private static partial Regex MlpName();
}
