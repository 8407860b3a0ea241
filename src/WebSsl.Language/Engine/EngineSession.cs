namespace WebSsl.Language.Engine;

/// <summary>
/// A conversation's claim on the engine's KV cache. Consecutive prompts of one session share their common prefix in the
/// cache (a follow-up question decodes only what is new). The cache may be evicted when the engine needs room for other
/// sessions (least recently used first); the next prompt then simply decodes everything again. Dispose to free it.
/// </summary>
public sealed class EngineSession : IDisposable
{
    private readonly LanguageEngine _engine;

    internal EngineSession(LanguageEngine engine, long id)
    {
        _engine = engine;
        Id = id;
    }

    public long Id { get; }

    /// <summary>The llama.cpp sequence holding this session's cache, or -1 while it has none. Loop thread only.</summary>
    internal int Slot { get; set; } = -1;

    /// <summary>The request generating in this session, if any (an engine-internal object).</summary>
    internal object? Current { get; set; }

    public bool IsDisposed { get; private set; }

    /// <summary>Positions of this session now resident in the KV cache.</summary>
    public int CachedTokens => _engine.CachedTokens(this);

    internal LanguageEngine Engine => _engine;

    public void Dispose()
    {
        if (!IsDisposed)
        {
            IsDisposed = true;
            _engine.Release(this);
        }
    }
}
