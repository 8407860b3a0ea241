namespace WebSsl.Vision.Images.Tiling;

/// <summary>
/// The views one image is read as: the global view first, then — when the grid has more than one tile — the grid's tiles
/// in reading order. A 1×1 grid is the global view alone (its one tile would be the same picture), so an image that needs
/// no tiles costs what it costs without tiling.
/// </summary>
public readonly record struct ViewLayout(TileGrid Grid)
{
    public static readonly ViewLayout GlobalOnly = new(TileGrid.Single);

    public bool HasTiles => Grid.Count > 1;

    /// <summary>Encoder inputs: the global view and the tiles.</summary>
    public int Views => 1 + (HasTiles ? Grid.Count : 0);

    public override string ToString() => HasTiles ? $"global+{Grid}" : "global";
}
