using System.Collections.Concurrent;
using WebSsl.Language.Engine;

namespace WebSsl.Multimodal.Assistant;

/// <summary>A conversation that is already answering a question: a second one is refused at once, never queued.</summary>
public sealed class ConversationBusyException()
    : WebSslException(ProblemKind.Conflict, "conversation-busy", "this conversation is already answering a question; wait for it to finish or stop it first.");

/// <summary>
/// Engine sessions by conversation id, for every surface that keeps conversations (the hub, the OpenAI API's
/// conversation_id, the chat client's ChatOptions.ConversationId), so each follow-up decodes only what is new. One
/// question at a time per conversation: a second gets <see cref="ConversationBusyException"/> at once. The pool is
/// bounded: past <see cref="Capacity"/> the least recently used idle sessions are dropped (the engine keeps KV caches for
/// only its MaxSessions anyway; a dropped conversation is replayed from its messages next time). Ids are short plain
/// strings, since clients choose some of them.
/// </summary>
public sealed class SessionPool(Func<EngineSession> create, int capacity) : IDisposable
{
    public const int MaxIdLength = 128;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Idle sessions kept at most (busy ones are never dropped).</summary>
    public int Capacity { get; } = capacity;

    /// <summary>Sessions held now.</summary>
    public int Count => _entries.Count;

    /// <summary>Why <paramref name="id"/> cannot name a conversation, or null: 1 to 128 characters of A-Z a-z 0-9 . _ : -.</summary>
    public static string? IdProblem(string id)
    {
        if (id.Length is 0 or > MaxIdLength)
        {
            return $"a conversation id has 1 to {MaxIdLength} characters; this one has {id.Length}.";
        }
        return id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-')
            ? null
            : "a conversation id may contain only letters, digits and . _ : - (ASCII).";
    }

    /// <summary>
    /// The session of <paramref name="key"/>, held until the lease is disposed. Callers check ids that clients chose
    /// with <see cref="IdProblem"/> and prefix them with their surface, so surfaces cannot reach each other's sessions.
    /// </summary>
    /// <exception cref="ConversationBusyException">the conversation is answering another question.</exception>
    public SessionLease Enter(string key)
    {
        while (true)
        {
            if (!_entries.TryGetValue(key, out Entry? entry))
            {
                // Not GetOrAdd(key, factory): under a race it may create two engine sessions and drop one undisposed.
                var fresh = new Entry(create());
                entry = _entries.GetOrAdd(key, fresh);
                if (!ReferenceEquals(entry, fresh))
                {
                    fresh.Session.Dispose();
                }
            }
            if (entry.TryEnter())
            {
                Trim();
                return new SessionLease(entry.Session, entry.Exit);
            }
            if (!entry.IsRetired)
            {
                throw new ConversationBusyException();
            }
            // Trimmed (or forgotten) between lookup and entry: drop the stale entry and take a fresh session.
            _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }
    }

    /// <summary>A session for one question that belongs to no conversation (disposed with the lease).</summary>
    public SessionLease EnterTransient()
    {
        EngineSession session = create();
        return new SessionLease(session, session.Dispose);
    }

    /// <summary>Drops a conversation's session (after the conversation is deleted); a running answer finishes first.</summary>
    public void Forget(string id)
    {
        if (_entries.TryRemove(id, out Entry? entry))
        {
            entry.Retire();
        }
    }

    private void Trim()
    {
        if (_entries.Count <= Capacity)
        {
            return;
        }
        foreach (var (id, _) in _entries.OrderBy(p => p.Value.LastUsed).Take(_entries.Count - Capacity).ToList())
        {
            if (_entries.TryGetValue(id, out Entry? idle) && !idle.IsBusy && _entries.TryRemove(new KeyValuePair<string, Entry>(id, idle)))
            {
                idle.Retire();
            }
        }
    }

    public void Dispose()
    {
        foreach (Entry entry in _entries.Values)
        {
            entry.Retire();
        }
        _entries.Clear();
    }

    /// <summary>One conversation's engine session; retired sessions are disposed once idle.</summary>
    private sealed class Entry(EngineSession session)
    {
        private int _busy;
        private volatile bool _retired;

        public EngineSession Session { get; } = session;

        public long LastUsed { get; private set; } = Environment.TickCount64;

        public bool IsBusy => Volatile.Read(ref _busy) != 0;

        public bool IsRetired => _retired;

        public bool TryEnter()
        {
            LastUsed = Environment.TickCount64;
            return !_retired && Interlocked.CompareExchange(ref _busy, 1, 0) == 0;
        }

        public void Exit()
        {
            Volatile.Write(ref _busy, 0);
            if (_retired && Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
            {
                Session.Dispose();
            }
        }

        public void Retire()
        {
            _retired = true;
            if (Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
            {
                Session.Dispose();
            }
        }
    }
}

/// <summary>A session held for one question; disposing it lets the next question of the conversation in.</summary>
public sealed class SessionLease(EngineSession session, Action release) : IDisposable
{
    private int _released;

    public EngineSession Session { get; } = session;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            release();
        }
    }
}
