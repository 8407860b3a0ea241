namespace WebSsl.Assistant.SemanticKernel;

/// <summary>
/// The tokens of recent answers, so a stateless client that sends an answer back in its history replays exactly what
/// was generated (tokenizing the text again may give other tokens, and the KV cache would then be decoded again from
/// there). Keyed by conversation and answer text, so equal answers of different conversations stay apart; bounded,
/// least recently used forgotten first. Thread-safe.
/// </summary>
internal sealed class AnswerTokenMemory(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Conversation, string Text), LinkedListNode<((string, string) Key, IReadOnlyList<int> Tokens)>> _entries = [];
    private readonly LinkedList<((string, string) Key, IReadOnlyList<int> Tokens)> _order = new();

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

    public void Remember(string? conversation, string text, IReadOnlyList<int> tokens)
    {
        var key = (conversation ?? "", text);
        lock (_gate)
        {
            if (_entries.Remove(key, out var old))
            {
                _order.Remove(old);
            }
            _entries[key] = _order.AddFirst((key, tokens));
            while (_entries.Count > capacity)
            {
                _entries.Remove(_order.Last!.Value.Key);
                _order.RemoveLast();
            }
        }
    }

    public IReadOnlyList<int>? Recall(string? conversation, string text)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue((conversation ?? "", text), out var node))
            {
                return null;
            }
            _order.Remove(node);
            _order.AddFirst(node);
            return node.Value.Tokens;
        }
    }
}
