namespace WebSsl.Vision.Images.Tiling;

/// <summary>
/// A grid of tiles over an image: <see cref="Columns"/> × <see cref="Rows"/> tiles, each read by the encoder at its own
/// resolution, in reading order (row by row, left to right).
/// </summary>
public readonly record struct TileGrid(int Columns, int Rows)
{
    public static readonly TileGrid Single = new(1, 1);

    public int Count => Columns * Rows;

    public double AspectRatio => (double)Columns / Rows;

    public override string ToString() => $"{Columns}x{Rows}";

    /// <summary>
    /// The grid for an image of <paramref name="width"/> × <paramref name="height"/> within a budget of
    /// <paramref name="minTiles"/> to <paramref name="maxTiles"/> tiles of <paramref name="tileSize"/> pixels.
    /// <para>
    /// InternVL's rule (dynamic preprocessing): the grid whose columns ÷ rows is closest to the image's aspect ratio;
    /// between grids of the same ratio, the larger one only when the image has the pixels to fill more than half of it.
    /// Chosen over LLaVA-NeXT's best-resolution rule (the resolution from a fixed list that keeps the most effective
    /// pixels with the least padding) because documents are what this assistant reads: a tall page keeps its shape, so
    /// lines of text are resized uniformly, and the budget alone decides how many tiles a page may take.
    /// </para>
    /// </summary>
    public static TileGrid Choose(int width, int height, int minTiles, int maxTiles, int tileSize)
    {
        if (width <= 0 || height <= 0)
        {
            throw new BadInputException($"an image of {width}x{height} pixels cannot be tiled.");
        }
        if (minTiles < 1 || maxTiles < minTiles)
        {
            throw new BadInputException($"a tile budget of {minTiles} to {maxTiles} tiles is not possible; it needs 1 <= min <= max.");
        }
        if (tileSize <= 0)
        {
            throw new BadInputException($"a tile size of {tileSize} pixels is not possible.");
        }
        double aspect = (double)width / height;
        long area = (long)width * height;
        TileGrid best = new(1, 1);
        double bestDifference = double.PositiveInfinity;
        foreach (TileGrid grid in Candidates(minTiles, maxTiles))
        {
            double difference = Math.Abs(aspect - grid.AspectRatio);
            if (difference < bestDifference)
            {
                (best, bestDifference) = (grid, difference);
            }
            else if (difference == bestDifference && area > 0.5 * tileSize * tileSize * grid.Count)
            {
                best = grid;
            }
        }
        return best;
    }

    /// <summary>Every grid within the budget, fewer tiles first (so that a tie keeps the smaller grid unless the image fills the larger).</summary>
    public static IEnumerable<TileGrid> Candidates(int minTiles, int maxTiles) =>
        Enumerable.Range(1, maxTiles)
            .SelectMany(columns => Enumerable.Range(1, maxTiles).Select(rows => new TileGrid(columns, rows)))
            .Where(g => g.Count >= minTiles && g.Count <= maxTiles)
            .OrderBy(g => g.Count)
            .ThenBy(g => g.Columns);
}
