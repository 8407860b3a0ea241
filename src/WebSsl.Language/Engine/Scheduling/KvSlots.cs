using LLama.Native;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Engine.Scheduling;

/// <summary>One llama.cpp sequence: which session owns it, what it holds, and what is generating in it.</summary>
internal sealed class KvSlot(int index)
{
    public int Index { get; } = index;
    public EngineSession? Owner { get; set; }
    public List<PromptItem> Cached { get; } = [];
    public GenerationRequest? Active { get; set; }
    public long LastUsed { get; set; }
}

/// <summary>
/// The KV cache's sequences as session slots: a session keeps its slot (and its cached prefix) between requests; a new
/// session takes a free slot or the least recently used idle one. Scheduler thread only, except <see cref="CachedTokens"/>.
/// </summary>
internal sealed class KvSlots(SafeLLamaContextHandle context, int count)
{
    private readonly KvSlot[] _slots = Enumerable.Range(0, count).Select(i => new KvSlot(i)).ToArray();
    private long _clock;

    public int Count => _slots.Length;

    public int Resident => _slots.Count(s => s.Owner is not null);

    public KvSlot this[int index] => _slots[index];

    /// <summary>The slot holding <paramref name="session"/>'s cache, if it still has one.</summary>
    public KvSlot? Of(EngineSession session) => session.Slot >= 0 && _slots[session.Slot].Owner == session ? _slots[session.Slot] : null;

    public int CachedTokens(EngineSession session) => Of(session)?.Cached.Count ?? 0;

    /// <summary>A slot for <paramref name="session"/>: its own (cache kept), a free one, or the least recently used idle one (evicted); null when all are busy.</summary>
    public KvSlot? Claim(EngineSession session)
    {
        KvSlot? slot = Of(session) ?? _slots.FirstOrDefault(s => s.Owner is null) ?? _slots.Where(s => s.Active is null).MinBy(s => s.LastUsed);
        if (slot is not null && slot.Owner != session)
        {
            Evict(slot);
            slot.Owner = session;
            session.Slot = slot.Index;
        }
        return slot;
    }

    /// <summary>
    /// Keeps the longest cached prefix that <paramref name="items"/> start with and drops the rest; the last prompt
    /// position is always decoded again so that its logits exist. Returns the kept length.
    /// </summary>
    public int KeepCommonPrefix(KvSlot slot, IReadOnlyList<PromptItem> items)
    {
        int common = 0;
        int limit = Math.Min(slot.Cached.Count, items.Count - 1);
        while (common < limit && slot.Cached[common].SameAs(items[common]))
        {
            common++;
        }
        if (common < slot.Cached.Count)
        {
            context.MemorySequenceRemove((LLamaSeqId)slot.Index, common, -1);
            slot.Cached.RemoveRange(common, slot.Cached.Count - common);
        }
        return common;
    }

    /// <summary>A request is done with its slot; the slot is evicted when its session is gone.</summary>
    public void Release(KvSlot slot)
    {
        slot.Active = null;
        slot.LastUsed = ++_clock;
        if (slot.Owner is { IsDisposed: true })
        {
            Evict(slot);
        }
    }

    /// <summary>Evicts the session's slot unless a request is generating in it.</summary>
    public void EvictIdle(EngineSession session)
    {
        if (Of(session) is { Active: null } slot)
        {
            Evict(slot);
        }
    }

    /// <summary>
    /// Makes room: evicts the least recently used idle slot; false when there is none. A slot whose request is being
    /// decoded is never idle, so a decode never evicts its own sequences.
    /// </summary>
    public bool EvictLeastRecentlyUsed()
    {
        KvSlot? victim = _slots.Where(s => s.Owner is not null && s.Active is null).MinBy(s => s.LastUsed);
        if (victim is null)
        {
            return false;
        }
        Evict(victim);
        return true;
    }

    private void Evict(KvSlot slot)
    {
        if (slot.Owner is { } owner && owner.Slot == slot.Index)
        {
            owner.Slot = -1;
        }
        slot.Owner = null;
        if (slot.Cached.Count > 0)
        {
            context.MemorySequenceRemove((LLamaSeqId)slot.Index, -1, -1);
            slot.Cached.Clear();
        }
    }
}
