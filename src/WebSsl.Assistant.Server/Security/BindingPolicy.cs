using System.Net;

namespace WebSsl.Assistant.Server.Security;

/// <summary>The server refuses to start when its configuration would expose it unsafely.</summary>
public sealed class ServerConfigurationException(string message) : Exception(message);

/// <summary>Which listen addresses are loopback-only, and the rule that anything else needs an API key.</summary>
public static class BindingPolicy
{
    /// <summary>True when the URL can only be reached from this machine (127.0.0.0/8, ::1, localhost).</summary>
    public static bool IsLoopback(string url)
    {
        // Kestrel accepts wildcard hosts that Uri does not parse: http://*:80, http://+:80.
        string normalized = url.Replace("://*", "://wildcard.invalid", StringComparison.Ordinal).Replace("://+", "://wildcard.invalid", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out Uri? uri))
        {
            return false;
        }
        string host = uri.Host.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return IPAddress.TryParse(host, out IPAddress? address) && IPAddress.IsLoopback(address);
    }

    /// <summary>Throws unless every URL is loopback or an API key is configured.</summary>
    public static void Check(IReadOnlyList<string> urls, string? apiKey)
    {
        string[] exposed = urls.Where(u => !IsLoopback(u)).ToArray();
        if (exposed.Length > 0 && string.IsNullOrWhiteSpace(apiKey))
        {
            throw new ServerConfigurationException(
                $"refusing to listen on {string.Join(", ", exposed)} without an API key: any binding other than loopback (127.0.0.1, ::1, localhost) " +
                "needs one. Set --api-key KEY, Server__ApiKey=KEY or \"Server\": {\"ApiKey\": ...} in appsettings.json, or listen on http://127.0.0.1:PORT.");
        }
        if (apiKey is { Length: > 0 and < 16 })
        {
            throw new ServerConfigurationException($"the API key has {apiKey.Length} characters; use at least 16 (e.g. openssl rand -hex 24).");
        }
    }
}
