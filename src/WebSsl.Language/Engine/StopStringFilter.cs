namespace WebSsl.Language.Engine;

/// <summary>
/// Streams text while watching for stop strings: text that could still turn out to be the start of a stop string is held
/// back until it is decided, so a stop string never reaches the client, even when it arrives split across tokens.
/// </summary>
public sealed class StopStringFilter(IReadOnlyList<string> stops)
{
    private readonly System.Text.StringBuilder _pending = new();

    public bool Stopped { get; private set; }

    /// <summary>Adds text; returns what can be emitted now. After a stop string matched, returns the text before it, then nothing.</summary>
    public string Push(string text)
    {
        if (Stopped)
        {
            return "";
        }
        _pending.Append(text);
        if (stops.Count == 0)
        {
            return Take(_pending.Length);
        }
        string buffer = _pending.ToString();
        int first = -1;
        foreach (string stop in stops)
        {
            int index = buffer.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && (first < 0 || index < first))
            {
                first = index;
            }
        }
        if (first >= 0)
        {
            Stopped = true;
            string before = buffer[..first];
            _pending.Clear();
            return before;
        }
        return Take(buffer.Length - HeldBack(buffer));
    }

    /// <summary>Whatever is still held back (generation ended without completing a stop string).</summary>
    public string Flush() => Stopped ? "" : Take(_pending.Length);

    /// <summary>Length of the longest suffix of <paramref name="buffer"/> that is a proper prefix of some stop string.</summary>
    private int HeldBack(string buffer)
    {
        int longest = 0;
        foreach (string stop in stops)
        {
            for (int length = Math.Min(stop.Length - 1, buffer.Length); length > longest; length--)
            {
                if (string.CompareOrdinal(buffer, buffer.Length - length, stop, 0, length) == 0)
                {
                    longest = length;
                    break;
                }
            }
        }
        return longest;
    }

    private string Take(int count)
    {
        string text = _pending.ToString(0, count);
        _pending.Remove(0, count);
        return text;
    }
}
