using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace WebSsl.Multimodal.Projectors;

/// <summary>
/// A projector selected by name as in LLaVA: <c>linear</c>, <c>mlp2x_gelu</c> (Linear, exact GELU, Linear) or
/// <c>mlp{N}x_gelu</c>, from the encoder's width to the LLM's n_embd, optionally after resizing the patch grid.
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
    }

    [GeneratedRegex("^mlp([1-9][0-9]?)x_gelu$")]
    private static partial Regex MlpName();
}
