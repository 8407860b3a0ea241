using System.Globalization;
using System.Text.Json.Serialization;

namespace WebSsl.Vision.Images.Tiling;

/// <summary>How a tiling scheme chooses an image's grid.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TileSelection>))]
public enum TileSelection
{
    /// <summary>The grid closest to the image's aspect ratio within the budget (<see cref="TileGrid.Choose"/>): a page always gets the most tiles its shape allows.</summary>
    [JsonStringEnumMemberName("aspect")] Aspect,

    /// <summary>As few tiles as the image's detail needs (<see cref="DetailMeter"/>), within the budget: a bar chart stays one view, a dense page gets many.</summary>
    [JsonStringEnumMemberName("auto")] Auto,
}

/// <summary>
/// A tiling scheme: an image becomes a global view (the whole image at the encoder's resolution) plus, when its grid has
/// more than one tile, the tiles of that grid in reading order. Recorded in the adapter (inside the projector's config),
/// so training, evaluation and serving cut every image the same way.
/// </summary>
public sealed record TilingOptions
{
    public const int Limit = 64;

    /// <summary>Most tiles per image (the global view not counted).</summary>
    [JsonPropertyName("max_tiles")] public int MaxTiles { get; init; } = 6;

    [JsonPropertyName("min_tiles")] public int MinTiles { get; init; } = 1;

    [JsonPropertyName("selection")] public TileSelection Selection { get; init; } = TileSelection.Aspect;

    /// <summary>
    /// For <see cref="TileSelection.Auto"/>: the largest mean absolute error (0..1 of full scale) the image may lose by being
    /// read at a grid's resolution; the smallest grid within it is chosen.
    /// </summary>
    [JsonPropertyName("detail_tolerance")] public double DetailTolerance { get; init; } = DetailMeter.DefaultTolerance;

    public void Validate()
    {
        if (MinTiles < 1 || MaxTiles < MinTiles || MaxTiles > Limit)
        {
            throw new BadInputException($"a tile budget of {MinTiles} to {MaxTiles} tiles is not possible; it needs 1 <= min <= max <= {Limit}.");
        }
        if (DetailTolerance is <= 0 or >= 1 || double.IsNaN(DetailTolerance))
        {
            throw new BadInputException($"a detail tolerance of {DetailTolerance} is not possible; it must be between 0 and 1.");
        }
    }

    /// <summary>
    /// Parses a command-line tiling: <c>none</c>, <c>N</c> (up to N tiles by aspect ratio), <c>auto</c> or <c>auto:N</c>
    /// (up to N tiles by detail); null for none.
    /// </summary>
    public static TilingOptions? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        string[] parts = text.Trim().ToLowerInvariant().Split(':');
        bool auto = parts[0] == "auto";
        string? count = auto ? parts.ElementAtOrDefault(1) : parts.Length == 1 ? parts[0] : null;
        if ((auto && parts.Length > 2) || (!auto && count is null))
        {
            throw new BadInputException($"tiling '{text}' is not understood; use none, N, auto or auto:N.");
        }
        int max = 6;
        if (count is not null && !int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out max))
        {
            throw new BadInputException($"tiling '{text}': '{count}' is not a number of tiles.");
        }
        var options = new TilingOptions { MaxTiles = max, Selection = auto ? TileSelection.Auto : TileSelection.Aspect };
        options.Validate();
        return options;
    }

    public override string ToString() => Selection == TileSelection.Auto ? $"auto:{MaxTiles}" : MaxTiles.ToString(CultureInfo.InvariantCulture);
}
