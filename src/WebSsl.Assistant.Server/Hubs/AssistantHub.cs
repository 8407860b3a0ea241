using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Assistant.Server.Telemetry;

namespace WebSsl.Assistant.Server.Hubs;

/// <summary>
/// The browser's (and any SignalR client's) way in, at /hubs/assistant. <c>Ask</c> streams <see cref="StreamEvent"/>s;
/// disposing the stream or disconnecting cancels the answer and frees its slot. Each connection may have
/// <see cref="ServerOptions.MaxStreamsPerConnection"/> streams open; the engine's queue bounds the whole server and
/// answers "busy" when full.
/// </summary>
public sealed class AssistantHub(ChatService chat, ConnectionStreams streams, IOptions<ServerOptions> options, ServerMetrics metrics) : Hub
{
    public const string Path = "/hubs/assistant";

    public async IAsyncEnumerable<StreamEvent> Ask(AskRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        int limit = options.Value.MaxStreamsPerConnection;
        if (!streams.TryOpen(Context.ConnectionId, limit))
        {
            metrics.Request("hub", "stream-limit");
            yield return StreamEvent.Error("stream-limit", $"this connection already has {limit} answers streaming; wait for one to finish or stop it.",
                request.ConversationId);
            yield break;
        }
        try
        {
            await foreach (StreamEvent e in chat.AskAsync(request, "hub", cancellationToken))
            {
                yield return e;
            }
        }
        finally
        {
            streams.Close(Context.ConnectionId);
        }
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        streams.Forget(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }
}

/// <summary>Open answer streams per connection (hubs are created per call, so the counts live here).</summary>
public sealed class ConnectionStreams
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    public bool TryOpen(string connectionId, int limit)
    {
        while (true)
        {
            int current = _open.GetOrAdd(connectionId, 0);
            if (current >= limit)
            {
                return false;
            }
            if (_open.TryUpdate(connectionId, current + 1, current))
            {
                return true;
            }
        }
    }

    public void Close(string connectionId)
    {
        while (_open.TryGetValue(connectionId, out int current) && current > 0 && !_open.TryUpdate(connectionId, current - 1, current))
        {
        }
    }

    public void Forget(string connectionId) => _open.TryRemove(connectionId, out _);

    public int Open(string connectionId) => _open.TryGetValue(connectionId, out int n) ? n : 0;
}
