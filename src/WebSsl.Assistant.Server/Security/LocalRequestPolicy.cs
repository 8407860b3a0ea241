using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using WebSsl.Assistant.Server.Chat;

namespace WebSsl.Assistant.Server.Security;

/// <summary>
/// What a server without an API key (so loopback only) accepts, against pages the user visits that try to reach it:
/// <list type="bullet">
/// <item>only loopback Host names (localhost, *.localhost, 127.0.0.0/8, ::1): a DNS-rebinding page (CVE-2024-28224 against
/// Ollama) reaches 127.0.0.1 under its own name, so its requests carry that name and are refused;</item>
/// <item>no foreign Origin on the hub (a WebSocket is not bound by CORS) or on any state-changing method (a cross-site
/// form POST needs no preflight): the Origin must be the server's own or one of <see cref="ServerOptions.CorsOrigins"/>.</item>
/// </list>
/// Clients that are not browsers send no Origin and are not affected. With an API key none of this applies: the key is
/// the protection and CORS stays as configured. Written here rather than with HostFiltering, whose allow-list cannot
/// say "any loopback address" and which knows nothing of Origins.
/// </summary>
public sealed class LocalRequestPolicy(RequestDelegate next, IOptions<ServerOptions> options)
{
    private readonly string[] _corsOrigins = options.Value.CorsOrigins;

    public Task InvokeAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string host = request.Host.Host;
        if (host.Length > 0 && !BindingPolicy.IsLoopbackHost(host))
        {
            return Refuse(context, Failures.Of(ProblemKind.BadInput, "host-not-allowed",
                $"this server has no API key, so it answers only requests addressed to localhost or a loopback address, not '{host}'. " +
                "To reach it under another name, configure an API key."));
        }
        string? origin = request.Headers.Origin.FirstOrDefault();
        bool guarded = request.Path.StartsWithSegments(Hubs.AssistantHub.Path) || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));
        if (origin is not null && guarded && !IsAllowedOrigin(origin, request))
        {
            return Refuse(context, Failures.Of(ProblemKind.Forbidden, "origin-not-allowed",
                $"requests from pages of '{origin}' are refused: only this server's own page (or Server:CorsOrigins) may change anything or use the hub."));
        }
        return next(context);
    }

    private bool IsAllowedOrigin(string origin, HttpRequest request) =>
        string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase)
        || _corsOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase);

    private static Task Refuse(HttpContext context, Failures.Failure failure) => Failures.Problem(failure).ExecuteAsync(context);
}
