using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace WebSsl.Assistant.Server.Security;

/// <summary>
/// When an API key is configured, every call to the hub, the image and conversation API and the OpenAI API must carry
/// it: "Authorization: Bearer KEY" or "X-Api-Key: KEY". Only the hub also takes "?access_token=KEY", because a browser
/// cannot set headers on a WebSocket handshake (SignalR's JavaScript client puts the key there); that route's query
/// string is kept out of the request log (<see cref="RequestLogging"/>). Anywhere else a key in a URL would end up
/// in logs, histories and Referer headers, so it is not accepted. The page itself, /health and /metrics stay open.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, string apiKey)
{
    private static readonly PathString[] Protected = ["/hubs", "/api", "/v1"];
    private readonly byte[] _key = Encoding.UTF8.GetBytes(apiKey);

    public async Task InvokeAsync(HttpContext context)
    {
        if (!Protected.Any(p => context.Request.Path.StartsWithSegments(p)) || HasKey(context.Request))
        {
            await next(context);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        const string message = "this server requires an API key: send Authorization: Bearer KEY (or X-Api-Key: KEY).";
        if (context.Request.Path.StartsWithSegments("/v1"))
        {
            await context.Response.WriteAsJsonAsync(new { error = new { message, type = "invalid_request_error", code = "invalid_api_key" } });
        }
        else
        {
            await Results.Problem(title: "API key required", detail: message, statusCode: 401, type: "https://webssl.dev/problems/api-key-required")
                .ExecuteAsync(context);
        }
    }

    private bool HasKey(HttpRequest request)
    {
        string? presented = null;
        string authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }
        presented ??= request.Headers["X-Api-Key"].FirstOrDefault();
        if (request.Path.StartsWithSegments(Hubs.AssistantHub.Path))
        {
            presented ??= request.Query["access_token"].FirstOrDefault();
        }
        // Constant time, so the key cannot be guessed byte by byte from response times.
        return presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _key);
    }
}
