using System.Net;
using Microsoft.AspNetCore.Http;

namespace WebSsl.Assistant.Server.Security;

/// <summary>The server refuses to start when its configuration would expose it unsafely.</summary>
public sealed class ServerConfigurationException(string message) : WebSslException(ProblemKind.Configuration, "server-configuration", message);

/// <summary>
/// Which listen addresses are loopback-only, and the rule that anything else needs an API key. Addresses are read the
/// way Kestrel reads them (<see cref="BindingAddress.Parse"/>), not as URIs: for Kestrel everything between "://" and
/// the port is the host, so "http://x@127.0.0.1:80" has the host "x@127.0.0.1", which is not an IP address and so
/// means "every interface". Only "localhost" and loopback IP literals bind to loopback; any other name binds to all.
/// </summary>
public static class BindingPolicy
{
    /// <summary>True when Kestrel, given this URL, can only be reached from this machine (127.0.0.0/8, ::1, localhost, a Unix socket).</summary>
    public static bool IsLoopback(string url) => Read(url) is { } address && IsLoopback(address);

    /// <summary>Throws unless every URL is well formed, and loopback or accompanied by an API key of at least 16 characters.</summary>
    public static void Check(IReadOnlyList<string> urls, string? apiKey)
    {
        foreach (string url in urls)
        {
            if (Problem(url) is { } problem)
            {
                throw new ServerConfigurationException($"cannot listen on '{url}': {problem}");
            }
        }
        string[] exposed = urls.Where(u => !IsLoopback(u)).ToArray();
        if (exposed.Length > 0 && string.IsNullOrWhiteSpace(apiKey))
        {
            throw new ServerConfigurationException(
                $"refusing to listen on {string.Join(", ", exposed)} without an API key: any binding other than loopback (127.0.0.1, ::1, localhost) " +
                "needs one (Kestrel binds every interface for a host name or a wildcard). Set --api-key KEY, Server__ApiKey=KEY or " +
                "\"Server\": {\"ApiKey\": ...} in appsettings.json, or listen on http://127.0.0.1:PORT.");
        }
        if (apiKey is { Length: > 0 and < 16 })
        {
            throw new ServerConfigurationException($"the API key has {apiKey.Length} characters; use at least 16 (e.g. openssl rand -hex 24).");
        }
    }

    /// <summary>Why Kestrel would misread or refuse this address, or null when it is well formed.</summary>
    public static string? Problem(string url)
    {
        if (url.Contains('@'))
        {
            return "user information ('name@') is not part of a listen address; Kestrel would read 'name@host' as a host name and listen on every interface.";
        }
        if (url.Contains('#') || url.Contains('?'))
        {
            return "a listen address has no query or fragment; write scheme://host:port.";
        }
        if (Read(url) is not { } address)
        {
            return "not a listen address; write scheme://host:port, e.g. http://127.0.0.1:5080.";
        }
        if (address.PathBase.Length > 0)
        {
            return $"a listen address has no path ('{address.PathBase}'); write scheme://host:port.";
        }
        return null;
    }

    private static BindingAddress? Read(string url)
    {
        try
        {
            return BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool IsLoopback(BindingAddress address)
    {
        if (address.IsUnixPipe)
        {
            return true;
        }
        string host = address.Host;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        // Kestrel's own test (AddressBinder): an IP literal binds to that address, anything else to every interface.
        return IsLoopbackLiteral(host);
    }

    /// <summary>
    /// True for a request's Host that can only name this machine: "localhost", "*.localhost" (RFC 6761: always
    /// loopback) or a loopback IP literal. A DNS-rebinding page reaches the server under its own host name, never these.
    /// </summary>
    public static bool IsLoopbackHost(string host)
    {
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || IsLoopbackLiteral(host);
    }

    /// <summary>127.0.0.0/8 or ::1 (also IPv4-mapped), with or without IPv6 brackets.</summary>
    private static bool IsLoopbackLiteral(string host) =>
        IPAddress.TryParse(host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host, out IPAddress? ip) && IPAddress.IsLoopback(ip);
}
