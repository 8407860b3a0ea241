using System.Security.Cryptography;

namespace WebSsl.Language.Prompting;

/// <summary>
/// Rows of LLM input embeddings for one image ([Tokens, Width] float32, row-major), as the projector produces them.
/// Identified by a hash of the values, so a conversation that replays the same image reuses the KV cache.
/// </summary>
public sealed class ImageEmbedding
{
    private readonly float[] _values;
    private string? _id;

    public ImageEmbedding(float[] values, int width)
    {
        if (width <= 0 || values.Length == 0 || values.Length % width != 0)
        {
            throw new ArgumentException($"image embedding of {values.Length} values is not a whole number of rows of width {width}.");
        }
        _values = values;
        Width = width;
    }

    /// <summary>Number of embedding rows (image tokens).</summary>
    public int Tokens => _values.Length / Width;

    /// <summary>Row width: must equal the LLM's n_embd.</summary>
    public int Width { get; }

    public ReadOnlyMemory<float> Values => _values;

    public ReadOnlySpan<float> Row(int index) => _values.AsSpan(index * Width, Width);

    /// <summary>SHA-256 of the values (hex), computed once.</summary>
    public string Id => _id ??= Convert.ToHexStringLower(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_values.AsSpan())));
}
