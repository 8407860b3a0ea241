using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using WebSsl.Assistant.SemanticKernel;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Assistant.Server.Conversations;
using WebSsl.Assistant.Server.Examples;
using WebSsl.Assistant.Server.Hosting;
using WebSsl.Assistant.Server.Hubs;
using WebSsl.Assistant.Server.Images;
using WebSsl.Assistant.Server.OpenAi;
using WebSsl.Assistant.Server.Security;
using WebSsl.Assistant.Server.Telemetry;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.Server;

/// <summary>
/// Builds the server: configuration (appsettings.json, environment, command line, then <paramref name="overrides"/>),
/// the assistant loaded in the background, the SignalR hub, image and conversation APIs, the OpenAI-compatible API,
/// /health, /metrics and the browser app.
/// </summary>
public static class AssistantServer
{
    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = Directory.GetCurrentDirectory() });
        if (overrides is { Count: > 0 })
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }
        ServerOptions server = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        List<string> urls = ListenUrls(builder.Configuration);
        if (urls.Count == 0)
        {
            urls.Add(ServerOptions.DefaultUrl);
            builder.WebHost.UseUrls(ServerOptions.DefaultUrl);
        }
        BindingPolicy.Check(urls, server.ApiKey);
        WebSslAssistantOptions assistant = builder.Configuration.GetSection(WebSslAssistantOptions.Section).Get<WebSslAssistantOptions>() ?? new WebSslAssistantOptions();
        ResourcePolicy.Check(assistant.Assistant, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        builder.AddRequestLogging();

        IServiceCollection services = builder.Services;
        services.Configure<ServerOptions>(builder.Configuration.GetSection(ServerOptions.Section));
        services.AddWebSslAssistant(builder.Configuration);
        services.PostConfigure<WebSslAssistantOptions>(options =>
        {
            if (builder.Configuration[$"{WebSslAssistantOptions.Section}:{nameof(WebSslAssistantOptions.ImageStoreDirectory)}"] is null)
            {
                options.ImageStoreDirectory = Path.Combine(server.DataDirectory, "images");
            }
        });
        services.AddSingleton(new ConversationStore(Path.Combine(server.DataDirectory, "conversations.db")));
        services.AddHostedService<DatabaseInitializer>();
        services.AddSingleton<ModelLoader>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelLoader>());
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton<ChatService>();
        services.AddSingleton<ConnectionStreams>();
        services.AddSingleton<ExampleCatalog>();
        services.AddProblemDetails();
        services.AddSignalR(o =>
        {
            // Questions refer to images by id, so hub messages stay small.
            o.MaximumReceiveMessageSize = 64 * 1024;
            o.MaximumParallelInvocationsPerClient = Math.Max(1, server.MaxStreamsPerConnection + 1);
        });
        if (server.CorsOrigins.Length > 0)
        {
            services.AddCors(o => o.AddDefaultPolicy(p => p.WithOrigins(server.CorsOrigins).AllowAnyHeader().AllowAnyMethod().AllowCredentials()));
        }
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ServerMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections")
            .AddPrometheusExporter());

        WebApplication app = builder.Build();
        app.UseHttpLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(SecurityHeaders);
        if (string.IsNullOrWhiteSpace(server.ApiKey))
        {
            app.UseMiddleware<LocalRequestPolicy>();
        }
        if (server.CorsOrigins.Length > 0)
        {
            app.UseCors();
        }
        if (!string.IsNullOrWhiteSpace(server.ApiKey))
        {
            app.UseMiddleware<ApiKeyMiddleware>(server.ApiKey);
        }
        UseBrowserApp(app, server);
        app.MapHealthEndpoints();
        app.MapImageEndpoints();
        app.MapConversationEndpoints();
        app.MapExampleEndpoints();
        app.MapOpenAiEndpoints();
        app.MapHub<AssistantHub>(AssistantHub.Path);
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>Where the server will listen: --urls / ASPNETCORE_URLS / "urls", and Kestrel:Endpoints:*:Url.</summary>
    public static List<string> ListenUrls(IConfiguration configuration)
    {
        var urls = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        urls.AddRange(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());
        return urls;
    }

    /// <summary>The folder of the browser app shipped next to the server (copied from web/ at build time).</summary>
    public static string DefaultWebRoot => Path.Combine(AppContext.BaseDirectory, "web");

    private static void UseBrowserApp(WebApplication app, ServerOptions server)
    {
        string root = Path.GetFullPath(server.WebRoot ?? DefaultWebRoot);
        if (!File.Exists(Path.Combine(root, "index.html")))
        {
            app.MapGet("/", () => Results.Problem(title: "browser app missing", statusCode: 404,
                detail: $"{root} has no index.html; build the server (it copies web/) or set Server:WebRoot. The APIs work without it."));
            return;
        }
        var files = new PhysicalFileProvider(root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
        });
    }

    /// <summary>
    /// The page may only run its own scripts: even if a model's answer slipped past the sanitizer, the browser would not
    /// execute inline script or load anything from elsewhere. connect-src 'self' covers the hub's WebSocket to this same
    /// host (CSP Level 3); "ws:"/"wss:" would allow sockets to any host.
    /// </summary>
    private static Task SecurityHeaders(HttpContext context, Func<Task> next)
    {
        IHeaderDictionary headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; " +
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
        return next();
    }
}
