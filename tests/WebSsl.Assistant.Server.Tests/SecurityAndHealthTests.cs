using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Assistant.Server.Security;

namespace WebSsl.Assistant.Server.Tests;

/// <summary>Binding and API key rules, CORS, /health and /metrics.</summary>
[Collection(ServerCollection.Name)]
public sealed class SecurityAndHealthTests(ServerWorld world)
{
    private const string Key = "test-key-0123456789abcdef";

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://192.168.1.20:5080", false)]
    [InlineData("http://x@127.0.0.1:5095", false)]
    [InlineData("http://localhost.evil.example:5080", false)]
    [InlineData("http://127.0.0.1.nip.io:5080", false)]
    [InlineData("http://[::ffff:127.0.0.1]:5080", true)]
    [InlineData("http://unix:/tmp/webssl.sock", true)]
    public void Only_loopback_addresses_count_as_loopback(string url, bool loopback) => Assert.Equal(loopback, BindingPolicy.IsLoopback(url));

    [Fact]
    public async Task Listening_beyond_loopback_without_a_key_is_refused_at_start()
    {
        var error = await Assert.ThrowsAsync<ServerConfigurationException>(() => world.StartAsync(new() { ["urls"] = "http://0.0.0.0:0" }));
        Assert.Contains("without an API key", error.Message);
        await Assert.ThrowsAsync<ServerConfigurationException>(() => world.StartAsync(new() { ["urls"] = "http://0.0.0.0:0", ["Server:ApiKey"] = "short" }));
    }

    [Fact]
    public async Task With_a_key_the_hub_uploads_and_openai_api_require_it()
    {
        await using RunningServer server = await world.StartAsync(new() { ["urls"] = "http://0.0.0.0:0", ["Server:ApiKey"] = Key });

        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("api/conversations")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.PostAsync("api/images", new ByteArrayContent([1, 2, 3]))).StatusCode);
        HttpResponseMessage openAi = await server.Http.GetAsync("v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, openAi.StatusCode);
        Assert.Equal("invalid_api_key", (await openAi.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("code").GetString());
        await Assert.ThrowsAsync<HttpRequestException>(() => server.ConnectAsync());
        await Assert.ThrowsAsync<HttpRequestException>(() => server.ConnectAsync(apiKey: "wrong-key-0123456789abcdef"));

        server.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("api/conversations")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("v1/models")).StatusCode);
        string image = (await server.UploadAsync(world.Image(0))).Id;
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync($"api/images/{image}")).StatusCode);
        await using HubConnection hub = await server.ConnectAsync(Key);
        List<StreamEvent> events = await RunningServer.AskAsync(hub, new AskRequest { Text = "what is this?", ImageIds = [image] });
        Assert.Equal(ServerWorld.Answer(0), RunningServer.Text(events).Trim());
    }

    [Fact]
    public async Task Cross_origin_calls_are_not_allowed_unless_configured()
    {
        await using RunningServer closed = await world.StartAsync();
        await using RunningServer open = await world.StartAsync(new() { ["Server:CorsOrigins:0"] = "https://dashboard.example" });
        foreach (RunningServer server in new[] { closed, open })
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "v1/chat/completions");
            preflight.Headers.Add("Origin", "https://dashboard.example");
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            HttpResponseMessage response = await server.Http.SendAsync(preflight);
            bool allowed = response.Headers.TryGetValues("Access-Control-Allow-Origin", out var origins) && origins.Contains("https://dashboard.example");
            Assert.Equal(server == open, allowed);
        }
    }

    [Fact]
    public async Task Health_is_503_with_the_reason_when_models_fail_and_the_rest_keeps_serving()
    {
        string truncated = Path.Combine(Directory.CreateTempSubdirectory("webssl-bad-").FullName, "llm.gguf");
        byte[] gguf = await File.ReadAllBytesAsync(world.Assistant.World.LlmPath);
        await File.WriteAllBytesAsync(truncated, gguf[..(gguf.Length / 2)]);
        await using RunningServer server = await world.StartAsync(new() { ["WebSslAssistant:Assistant:LlmPath"] = truncated }, waitUntilReady: false);
        for (int i = 0; i < 300 && server.App.Services.GetRequiredService<Hosting.ModelLoader>().State == Hosting.ModelState.Loading; i++)
        {
            await Task.Delay(100);
        }

        HttpResponseMessage health = await server.Http.GetAsync("health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        JsonElement body = await health.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("failed", body.GetProperty("status").GetString());
        // The reason and the file's name, not the folders: /health is open to anyone who can reach the server.
        string reason = body.GetProperty("error").GetString()!;
        Assert.Contains("llm.gguf", reason);
        Assert.DoesNotContain(Path.GetDirectoryName(truncated)!, reason);
        Assert.DoesNotContain(Path.GetFileName(Path.GetDirectoryName(truncated))!, reason);

        await using HubConnection hub = await server.ConnectAsync();
        StreamEvent error = Assert.Single(await RunningServer.AskAsync(hub, new AskRequest { Text = "hello" }));
        Assert.Equal("model-unavailable", error.Code);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.Http.PostAsJsonAsync("v1/chat/completions", new { messages = new[] { new { role = "user", content = "hi" } } })).StatusCode);
        await server.UploadAsync(world.Image(0));
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("api/conversations")).StatusCode);
    }

    [Fact]
    public async Task Health_is_200_once_loaded_and_metrics_count_requests_tokens_and_latency()
    {
        await using RunningServer server = await world.StartAsync();
        JsonElement health = await server.Http.GetFromJsonAsync<JsonElement>("health");
        Assert.Equal("ready", health.GetProperty("status").GetString());
        string image = (await server.UploadAsync(world.Image(0))).Id;
        await using HubConnection hub = await server.ConnectAsync();
        await RunningServer.AskAsync(hub, new AskRequest { Text = "what is this?", ImageIds = [image] });
        await RunningServer.AskAsync(hub, new AskRequest { Text = "tell me more", MaxTokens = 16, IgnoreEos = true });

        string metrics = await server.Http.GetStringAsync("metrics");

        Assert.Contains("webssl_requests_total{", metrics);
        Assert.Contains("outcome=\"ok\"", metrics);
        Assert.Contains("webssl_generated_tokens_total", metrics);
        Assert.Contains("webssl_first_token_duration_seconds_bucket", metrics);
        Assert.Contains("webssl_encoder_duration_seconds_count", metrics);
        Assert.Contains("webssl_queue_depth", metrics);
        Assert.Contains("webssl_generation_tokens_per_second_count", metrics);
        Assert.Contains("http_server_request_duration_seconds", metrics);
    }
}
