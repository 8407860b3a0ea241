using WebSsl.Language.Prompting;
using WebSsl.Vision.Images.Tiling;

namespace WebSsl.Multimodal.Embedding;

/// <summary>A cached image: its embedding and the views it was read as.</summary>
public sealed record CachedImage(ImageEmbedding Embedding, ViewLayout Layout);

/// <summary>
/// Image embeddings by key (content hash + preprocessing + adapter), least recently used evicted first once the values
/// exceed the byte budget. Thread-safe.
/// </summary>
public sealed class EmbeddingCache(long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, CachedImage Value)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, CachedImage Value)> _order = new();
    private long _bytes;

    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public bool TryGet(string key, out CachedImage embedding)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                embedding = node.Value.Value;
                return true;
            }
        }
        embedding = null!;
        return false;
    }

    public void Add(string key, CachedImage embedding)
    {
        long size = (long)embedding.Embedding.Values.Length * sizeof(float);
        if (size > maxBytes)
        {
            return; // larger than the whole budget: not worth evicting everything for
        }
        lock (_gate)
        {
            if (_entries.ContainsKey(key))
            {
                return;
            }
            _entries[key] = _order.AddFirst((key, embedding));
            _bytes += size;
            while (_bytes > maxBytes && _order.Last is { } oldest)
            {
                _order.RemoveLast();
                _entries.Remove(oldest.Value.Key);
                _bytes -= (long)oldest.Value.Value.Embedding.Values.Length * sizeof(float);
            }
        }
    }
}
