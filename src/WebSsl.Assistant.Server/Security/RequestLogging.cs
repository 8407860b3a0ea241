using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebSsl.Assistant.Server.Security;

/// <summary>
/// One log line per request (method, path, status, duration) from ASP.NET Core's HTTP logging, never the query string:
/// the hub's WebSocket handshake carries the API key as ?access_token= (browsers cannot send headers there). The
/// hosting layer's own "Request starting/finished" lines print whole URLs, so they are held back to warnings, after
/// configuration, so that a "Logging" setting cannot bring them back.
/// </summary>
public static class RequestLogging
{
    public const string HostingCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public static void AddRequestLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.AddFilter(HostingCategory, LogLevel.Warning);
        builder.Services.AddHttpLogging(o =>
        {
            o.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath | HttpLoggingFields.RequestProtocol
                | HttpLoggingFields.ResponseStatusCode | HttpLoggingFields.Duration;
            o.CombineLogs = true;
        });
    }
}
