using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using WebSsl.Assistant.SemanticKernel;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Assistant.Server.Security;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.Server.Tests;

/// <summary>
/// What a hostile web page, a hostile client or a careless setting can try, each through a real server on loopback:
/// binding tricks, keys in URLs, DNS rebinding and cross-site requests, client-chosen ids, and requests that force work.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class HostileClientTests(ServerWorld world)
{
    private const string Key = "test-key-0123456789abcdef";

    // ---- 1. binding ---------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("http://x@127.0.0.1:5095")]
    [InlineData("http://user:pass@localhost:5095")]
    [InlineData("http://127.0.0.1:5095/#frag")]
    [InlineData("http://127.0.0.1:5095/?q=1")]
    [InlineData("http://127.0.0.1:5095/base")]
    [InlineData("127.0.0.1:5095")]
    public async Task Addresses_kestrel_would_misread_are_refused_at_start_even_with_a_key(string url)
    {
        var error = await Assert.ThrowsAsync<ServerConfigurationException>(() => world.StartAsync(new() { ["urls"] = url, ["Server:ApiKey"] = Key }));
        Assert.Contains($"cannot listen on '{url}'", error.Message);
    }

    [Theory]
    [InlineData("http://localhost.evil.example:0")]
    [InlineData("http://127.0.0.1.nip.io:0")]
    [InlineData("http://my-laptop:0")]
    public async Task A_host_name_binds_every_interface_so_without_a_key_it_is_refused(string url)
    {
        var error = await Assert.ThrowsAsync<ServerConfigurationException>(() => world.StartAsync(new() { ["urls"] = url }));
        Assert.Contains("without an API key", error.Message);
    }

    // ---- 2. the key stays out of URLs ---------------------------------------------------------------------------------

    [Fact]
    public async Task The_key_is_taken_from_the_query_only_on_the_hub_handshake()
    {
        await using RunningServer server = await world.StartAsync(new() { ["Server:ApiKey"] = Key });
        server.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        string image = (await server.UploadAsync(world.Image(0))).Id;
        using var anonymous = new HttpClient { BaseAddress = server.Address };

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"api/images/{image}?access_token={Key}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"api/conversations?access_token={Key}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"v1/models?access_token={Key}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync($"api/images/{image}")).StatusCode);

        // What a browser's SignalR client does: the key in the WebSocket handshake's query.
        using ClientWebSocket socket = await OpenSocketAsync(server, $"?access_token={Key}");
        Assert.Equal(WebSocketState.Open, socket.State);
        await Assert.ThrowsAsync<WebSocketException>(() => OpenSocketAsync(server, "?access_token=wrong-key-0123456789abcdef"));
    }

    // ---- 3. DNS rebinding and cross-site pages ------------------------------------------------------------------------

    [Fact]
    public async Task Without_a_key_requests_under_a_foreign_host_name_are_refused()
    {
        await using RunningServer server = await world.StartAsync();
        await using (var hub = await server.ConnectAsync())
        {
            await RunningServer.AskAsync(hub, new AskRequest { Text = "private question", MaxTokens = 2 });
        }

        foreach (string path in new[] { "api/conversations", "", "health", "api/info" })
        {
            HttpResponseMessage rebound = await SendAsync(server, HttpMethod.Get, path, host: $"attacker.example:{server.Address.Port}");
            Assert.Equal(HttpStatusCode.BadRequest, rebound.StatusCode);
            Assert.Equal("host-not-allowed", (await rebound.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
            Assert.DoesNotContain("private question", await rebound.Content.ReadAsStringAsync());
        }
        foreach (string host in new[] { $"localhost:{server.Address.Port}", $"app.localhost:{server.Address.Port}", $"127.0.0.1:{server.Address.Port}", $"[::1]:{server.Address.Port}" })
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(server, HttpMethod.Get, "api/conversations", host: host)).StatusCode);
        }
    }

    [Fact]
    public async Task Without_a_key_foreign_pages_cannot_open_the_hub_or_change_anything()
    {
        await using RunningServer server = await world.StartAsync(new() { ["Server:CorsOrigins:0"] = "https://dashboard.example" });
        string own = $"http://127.0.0.1:{server.Address.Port}";

        await Assert.ThrowsAsync<WebSocketException>(() => OpenSocketAsync(server, origin: "https://evil.example"));
        await Assert.ThrowsAsync<WebSocketException>(() => OpenSocketAsync(server, origin: "null"));
        using (ClientWebSocket ownPage = await OpenSocketAsync(server, origin: own))
        {
            Assert.Equal(WebSocketState.Open, ownPage.State);
        }

        HttpResponseMessage crossSite = await UploadAsync(server, origin: "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, crossSite.StatusCode);
        Assert.Equal("origin-not-allowed", (await crossSite.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.DoesNotContain(Directory.EnumerateFiles(server.DataDirectory, "*", SearchOption.AllDirectories), f => !Path.GetFileName(f).StartsWith("conversations.db"));
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(server, HttpMethod.Post, "v1/chat/completions", origin: "https://evil.example",
            content: JsonContent.Create(new { messages = new[] { new { role = "user", content = "hi" } } }))).StatusCode);

        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(server, origin: own)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(server, origin: "https://dashboard.example")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(server, origin: null)).StatusCode);
        // Reading is not a change: a foreign page's GET is answered, and CORS keeps the answer from that page.
        HttpResponseMessage read = await SendAsync(server, HttpMethod.Get, "api/conversations", origin: "https://evil.example");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.False(read.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task With_a_key_other_host_names_and_configured_origins_are_served()
    {
        await using RunningServer server = await world.StartAsync(new() { ["urls"] = "http://0.0.0.0:0", ["Server:ApiKey"] = Key });
        HttpResponseMessage named = await SendAsync(server, HttpMethod.Get, "api/conversations", host: "assistant.example", key: Key);
        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
    }

    // ---- 4. client-chosen conversation ids ----------------------------------------------------------------------------

    [Fact]
    public async Task Conversation_ids_are_short_plain_strings_and_their_sessions_are_bounded()
    {
        await using RunningServer server = await world.StartAsync();

        foreach (string id in new[] { new string('a', 200_000), "a/b", "ü", "" + '\n' })
        {
            HttpResponseMessage refused = await server.Http.PostAsJsonAsync("v1/chat/completions", Chat("hi", conversationId: id));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("conversation_id", await ErrorMessageAsync(refused));
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.PostAsJsonAsync("v1/chat/completions", new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
            ["conversation_id"] = 7,
        })).StatusCode);

        var sessions = server.Assistant.Sessions;
        for (int i = 0; i < sessions.Capacity + 6; i++)
        {
            HttpResponseMessage ok = await server.Http.PostAsJsonAsync("v1/chat/completions", Chat($"question {i}", conversationId: $"client-{i}", maxTokens: 1));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        Assert.True(sessions.Count <= sessions.Capacity, $"{sessions.Count} sessions kept; the pool holds {sessions.Capacity}");
        Assert.Equal(HttpStatusCode.OK, (await server.Http.PostAsJsonAsync("v1/chat/completions", Chat("again", conversationId: "client-0", maxTokens: 1))).StatusCode);
    }

    [Fact]
    public async Task A_second_request_on_a_busy_conversation_id_is_answered_409_at_once()
    {
        await using RunningServer server = await world.StartAsync();
        using var stop = new CancellationTokenSource();
        JsonObject longAnswer = Chat("tell me everything", conversationId: "shared", maxTokens: 3000);
        longAnswer["ignore_eos"] = true;
        longAnswer["stream"] = true;
        using var first = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(longAnswer) };
        HttpResponseMessage streaming = await server.Http.SendAsync(first, HttpCompletionOption.ResponseHeadersRead, stop.Token);
        Assert.Equal(HttpStatusCode.OK, streaming.StatusCode);

        var clock = Stopwatch.StartNew();
        HttpResponseMessage second = await server.Http.PostAsJsonAsync("v1/chat/completions", Chat("me too", conversationId: "shared"));
        clock.Stop();

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        JsonElement error = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("conversation-busy", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the refusal took {clock.Elapsed}");
        stop.Cancel();
        streaming.Dispose();
    }

    // ---- 5. work a single request can force ---------------------------------------------------------------------------

    [Fact]
    public async Task A_small_file_claiming_64_megapixels_is_refused_from_its_header_without_decoding()
    {
        await using RunningServer server = await world.StartAsync();
        AssistantHost host = server.App.Services.GetRequiredService<AssistantHost>();
        byte[] bomb = TestImages.PngClaiming(8000, 8000);

        HttpResponseMessage response = await server.Http.PostAsync("api/images", new ByteArrayContent(bomb));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("64,000,000 pixels is over the limit of 36,000,000", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, host.Decodes.PeakRunning);
    }

    [Fact]
    public async Task Decodes_beyond_the_configured_concurrency_wait_in_a_bounded_queue_then_get_busy()
    {
        await using RunningServer server = await world.StartAsync(new()
        {
            ["WebSslAssistant:Assistant:Decoding:MaxConcurrent"] = "1",
            ["WebSslAssistant:Assistant:Decoding:MaxWaiting"] = "1",
        });
        AssistantHost host = server.App.Services.GetRequiredService<AssistantHost>();
        using var release = new ManualResetEventSlim();
        // Something else holds the only decode turn (a large upload, say).
        Task<int> holder = host.Decodes.RunAsync("holder", () => release.Wait(TimeSpan.FromMinutes(1)) ? 1 : 0);
        while (host.Decodes.Running == 0)
        {
            await Task.Delay(10);
        }

        Task<HttpResponseMessage> waiting = UploadAsync(server, origin: null);
        while (host.Decodes.Waiting == 0)
        {
            await Task.Delay(10);
        }
        var clock = Stopwatch.StartNew();
        HttpResponseMessage refused = await UploadAsync(server, origin: null);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("busy", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.False(waiting.IsCompleted);

        release.Set();
        Assert.Equal(1, await holder);
        Assert.Equal(HttpStatusCode.Created, (await waiting).StatusCode);
        Assert.Equal(1, host.Decodes.PeakRunning);
        Assert.Equal(1, host.Decodes.Refused);
    }

    [Fact]
    public async Task Images_are_counted_across_the_whole_request_before_any_is_decoded()
    {
        await using RunningServer server = await world.StartAsync(new() { ["WebSslAssistant:Assistant:MaxImagesPerRequest"] = "3" });
        string image = "data:image/png;base64," + Convert.ToBase64String(await File.ReadAllBytesAsync(world.Image(2)));
        JsonObject Turn(string role, string text, int images) => new()
        {
            ["role"] = role,
            ["content"] = role == "assistant" ? text : new JsonArray([new JsonObject { ["type"] = "text", ["text"] = text },
                .. Enumerable.Range(0, images).Select(_ => new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = image } })]),
        };
        var request = new JsonObject
        {
            ["messages"] = new JsonArray(Turn("user", "first", 2), Turn("assistant", "ok", 0), Turn("user", "second", 2)),
        };
        long encodedBefore = server.Assistant.EncodedImages;

        HttpResponseMessage response = await server.Http.PostAsJsonAsync("v1/chat/completions", request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("4 images in the conversation; at most 3", await ErrorMessageAsync(response));
        Assert.Equal(encodedBefore, server.Assistant.EncodedImages);
        Assert.Equal(0, server.App.Services.GetRequiredService<AssistantHost>().Decodes.PeakRunning);
    }

    [Fact]
    public async Task The_request_body_cap_follows_the_image_limits()
    {
        var options = new ServerOptions();
        var limits = new Vision.Images.ImageLimits { MaxBytes = 3 * 1024 * 1024 };
        Assert.Equal(3L * 1024 * 1024 * 2 * 4 / 3 + 1024 * 1024, options.RequestBodyLimit(limits));
        Assert.Equal(32L * 1024 * 1024 * 2 * 4 / 3 + 1024 * 1024, options.RequestBodyLimit(Vision.Images.ImageLimits.Default));

        await using RunningServer server = await world.StartAsync(new() { ["WebSslAssistant:Assistant:ImageLimits:MaxBytes"] = "30000" });
        var body = new ByteArrayContent(new byte[30000 * 2 * 4 / 3 + 1024 * 1024 + 1]);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpResponseMessage response = await server.Http.PostAsync("v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("Server:MaxRequestBytes", await ErrorMessageAsync(response));
    }

    [Fact]
    public async Task Settings_that_let_decoding_take_most_of_the_memory_are_refused_at_start()
    {
        var error = await Assert.ThrowsAsync<ServerConfigurationException>(() => world.StartAsync(new()
        {
            ["WebSslAssistant:Assistant:Decoding:MaxConcurrent"] = "64",
            ["WebSslAssistant:Assistant:ImageLimits:MaxPixels"] = "1000000000",
            ["WebSslAssistant:Assistant:ImageLimits:MaxSide"] = "100000",
            ["WebSslAssistant:Assistant:ImageLimits:MaxDecodeMegabytes"] = "8000",
        }));
        Assert.Contains("over half of the", error.Message);
    }

    // ---- 6. smaller ---------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"stop":[1]}""", "'stop' entries")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"stop":[null]}""", "'stop' entries")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"stop":{"a":1}}""", "'stop' must be")]
    public async Task Malformed_fields_are_a_400_that_names_the_field_and_no_internals(string json, string expected)
    {
        await using RunningServer server = await world.StartAsync();
        var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");

        HttpResponseMessage response = await server.Http.PostAsync("v1/chat/completions", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string message = await ErrorMessageAsync(response);
        Assert.Contains(expected, message);
        Assert.DoesNotContain("System.", message);
        Assert.DoesNotContain("Exception", message);
    }

    [Fact]
    public void Faults_of_the_server_reach_clients_as_a_fixed_text()
    {
        Failures.Failure failure = Failures.Describe(new InvalidOperationException("cannot open /home/alice/secret/model.gguf"));
        Assert.Equal(("internal", 500), (failure.Code, failure.Status));
        Assert.DoesNotContain("alice", failure.Message);
    }

    [Fact]
    public async Task The_page_may_connect_only_to_its_own_origin()
    {
        await using RunningServer server = await world.StartAsync();
        HttpResponseMessage page = await server.Http.GetAsync("/");
        string csp = string.Join(" ", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("connect-src 'self';", csp);
        Assert.DoesNotContain("ws:", csp);
    }

    // ---- helpers ------------------------------------------------------------------------------------------------------

    private static JsonObject Chat(string text, string? conversationId = null, int? maxTokens = null) => new()
    {
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }),
        ["conversation_id"] = conversationId,
        ["max_tokens"] = maxTokens,
    };

    private static async Task<string> ErrorMessageAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("message").GetString()!;

    private static async Task<ClientWebSocket> OpenSocketAsync(RunningServer server, string query = "", string? origin = null)
    {
        var socket = new ClientWebSocket();
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }
        var uri = new Uri($"ws://127.0.0.1:{server.Address.Port}{Hubs.AssistantHub.Path}{query}");
        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(RunningServer server, HttpMethod method, string path, string? host = null, string? origin = null,
        string? key = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (host is not null)
        {
            request.Headers.Host = host;
        }
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        using var http = new HttpClient { BaseAddress = server.Address };
        HttpResponseMessage response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private async Task<HttpResponseMessage> UploadAsync(RunningServer server, string? origin)
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(world.Image(3))), "file", "chart.png");
        return await SendAsync(server, HttpMethod.Post, "api/images", origin: origin, content: form);
    }
}
