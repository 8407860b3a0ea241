using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Assistant.Server.Hosting;
using WebSsl.Assistant.Server.Hubs;
using WebSsl.Assistant.Server.Images;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.Server.Tests;

/// <summary>The tiny assistant world (encoder, LLM, trained adapter: chart-i.png is answered Answers[i]), shared by all server tests.</summary>
public sealed class ServerWorld : IAsyncLifetime
{
    public AssistantWorld Assistant { get; } = new();

    public string Image(int i) => Assistant.Image(i);

    public static string Answer(int i) => TrainingWorld.Answers[i];

    public Task InitializeAsync() => Assistant.InitializeAsync();

    public Task DisposeAsync() => Assistant.DisposeAsync();

    /// <summary>Starts a real Kestrel server on a free loopback port with these models and a data folder of its own (or the one given).</summary>
    public async Task<RunningServer> StartAsync(Dictionary<string, string?>? settings = null, string? dataDirectory = null, bool waitUntilReady = true)
    {
        dataDirectory ??= Directory.CreateTempSubdirectory("webssl-server-").FullName;
        const string a = "WebSslAssistant:Assistant:";
        var overrides = new Dictionary<string, string?>
        {
            [a + "EncoderPath"] = Assistant.World.EncoderDirectory,
            [a + "LlmPath"] = Assistant.World.LlmPath,
            [a + "AdapterPath"] = Assistant.AdapterDirectory,
            [a + "Engine:MaxSessions"] = "4",
            [a + "Engine:ContextSize"] = "16384",
            [a + "Engine:MaxSessionTokens"] = "4096",
            [a + "Threads"] = "2",
            ["Server:DataDirectory"] = dataDirectory,
            [a + "MaxAnswerTokens"] = "3500",
            ["urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? [])
        {
            overrides[key] = value;
        }
        WebApplication app = AssistantServer.Build([], overrides);
        await app.StartAsync();
        var server = new RunningServer(app, dataDirectory);
        if (waitUntilReady)
        {
            await server.WaitUntilReadyAsync();
        }
        return server;
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerWorld>
{
    public const string Name = "server";
}

/// <summary>A started server, an HTTP client for it, and helpers that read like a client's own code.</summary>
public sealed class RunningServer(WebApplication app, string dataDirectory) : IAsyncDisposable
{
    public WebApplication App { get; } = app;

    public string DataDirectory { get; } = dataDirectory;

    public Uri Address { get; } = new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()
        .Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");

    public HttpClient Http => _http ??= new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(2) };

    private HttpClient? _http;

    public VisionAssistant Assistant => App.Services.GetRequiredService<WebSsl.Multimodal.Hosting.AssistantHost>().GetAsync().Result;

    public async Task WaitUntilReadyAsync()
    {
        ModelLoader loader = App.Services.GetRequiredService<ModelLoader>();
        for (int i = 0; i < 600 && loader.State == ModelState.Loading; i++)
        {
            await Task.Delay(100);
        }
        Assert.True(loader.State == ModelState.Ready, $"the models did not load: {loader.Error}");
    }

    public async Task<HubConnection> ConnectAsync(string? apiKey = null)
    {
        HubConnection connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Address, AssistantHub.Path.TrimStart('/')), o =>
            {
                if (apiKey is not null)
                {
                    o.AccessTokenProvider = () => Task.FromResult<string?>(apiKey);
                }
            })
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .Build();
        await connection.StartAsync();
        return connection;
    }

    public async Task<StoredImage> UploadAsync(string path)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(path)), "file", Path.GetFileName(path));
        HttpResponseMessage response = await Http.PostAsync("api/images", form);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<StoredImage>())!;
    }

    /// <summary>All events of one answer.</summary>
    public static async Task<List<StreamEvent>> AskAsync(HubConnection connection, AskRequest request, CancellationToken cancellationToken = default)
    {
        var events = new List<StreamEvent>();
        await foreach (StreamEvent e in connection.StreamAsync<StreamEvent>("Ask", request, cancellationToken))
        {
            events.Add(e);
        }
        return events;
    }

    public static string Text(IEnumerable<StreamEvent> events) => string.Concat(events.Where(e => e.Type == "token").Select(e => e.Text));

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
