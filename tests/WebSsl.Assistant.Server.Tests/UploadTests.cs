using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Assistant.Server.Images;

namespace WebSsl.Assistant.Server.Tests;

/// <summary>POST /api/images refuses every kind of bad upload with a 4xx problem, and the server keeps answering.</summary>
[Collection(ServerCollection.Name)]
public sealed class UploadTests(ServerWorld world)
{
    private const int MaxBytes = 200_000;

    public static TheoryData<string, int, string> BadUploads => new()
    {
        { "corrupt", 422, "image-rejected" },
        { "empty", 400, "image-rejected" },
        { "not-an-image", 415, "image-rejected" },
        { "decompression-bomb", 422, "image-rejected" },
        { "truncated", 422, "image-rejected" },
        { "oversize", 413, "image-rejected" },
        { "no-file-field", 400, "bad-request" },
    };

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task A_bad_upload_is_a_4xx_problem_and_the_server_keeps_answering(string kind, int status, string code)
    {
        await using RunningServer server = await world.StartAsync(new() { ["WebSslAssistant:Assistant:ImageLimits:MaxBytes"] = MaxBytes.ToString() });
        byte[] chart = await File.ReadAllBytesAsync(world.Image(0));
        HttpContent content = kind switch
        {
            "corrupt" => Part("scan.png", TestImages.WithGarbledPixels(chart)),
            "empty" => Part("empty.png", []),
            "not-an-image" => Part("notes.png", "just some text, named like an image"u8.ToArray()),
            "decompression-bomb" => Part("bomb.png", TestImages.PngClaiming(100_000, 100_000)),
            "truncated" => Part("half.png", chart[..(chart.Length / 2)]),
            "oversize" => new ByteArrayContent(new byte[MaxBytes * 3]),
            _ => new MultipartFormDataContent { { new ByteArrayContent(chart), "picture", "chart.png" } },
        };

        // As well-behaved clients send big bodies: the server's 413 arrives before the body is sent.
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/images") { Content = content };
        request.Headers.ExpectContinue = true;
        HttpResponseMessage response = await server.Http.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));

        // Nothing was stored, and a normal question still works.
        Assert.Empty(StoredFiles(server));
        StoredImage image = await server.UploadAsync(world.Image(1));
        await using HubConnection hub = await server.ConnectAsync();
        List<StreamEvent> events = await RunningServer.AskAsync(hub, new AskRequest { Text = "what is this?", ImageIds = [image.Id] });
        Assert.Equal(ServerWorld.Answer(1), RunningServer.Text(events).Trim());
    }

    [Fact]
    public async Task Rude_clients_abandoning_uploads_or_sending_garbage_do_not_disturb_the_server()
    {
        await using RunningServer server = await world.StartAsync();
        byte[] chart = await File.ReadAllBytesAsync(world.Image(0));
        for (int i = 0; i < 3; i++)
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync(server.Address.Host, server.Address.Port);
            await using System.Net.Sockets.NetworkStream stream = tcp.GetStream();
            string head = i == 2
                ? "NOT-HTTP \u0001\u0002 garbage\r\n\r\n"
                : $"POST /api/images HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: {chart.Length}\r\n\r\n";
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(chart.AsMemory(0, chart.Length / 3));
            // ...and hang up mid-body.
        }
        Assert.Empty(StoredFiles(server));

        StoredImage image = await server.UploadAsync(world.Image(0));
        await using HubConnection hub = await server.ConnectAsync();
        Assert.Equal(ServerWorld.Answer(0), RunningServer.Text(await RunningServer.AskAsync(hub, new AskRequest { Text = "what is this?", ImageIds = [image.Id] })).Trim());
    }

    [Fact]
    public async Task A_raw_body_upload_is_stored_by_content_and_served_back()
    {
        await using RunningServer server = await world.StartAsync();
        byte[] chart = await File.ReadAllBytesAsync(world.Image(3));
        var body = new ByteArrayContent(chart);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        HttpResponseMessage response = await server.Http.PostAsync("api/images", body);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        StoredImage stored = (await response.Content.ReadFromJsonAsync<StoredImage>())!;
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(chart)), stored.Id);
        Assert.Equal(("PNG", 56, 42), (stored.Format, stored.Width, stored.Height));
        Assert.Equal(stored.Id, (await server.UploadAsync(world.Image(3))).Id);
        HttpResponseMessage download = await server.Http.GetAsync(stored.Url);
        Assert.Equal("image/png", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(chart, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"api/images/{new string('0', 64)}")).StatusCode);
    }

    private static IEnumerable<string> StoredFiles(RunningServer server)
    {
        string images = Path.Combine(server.DataDirectory, "images");
        return Directory.Exists(images) ? Directory.EnumerateFiles(images, "*", SearchOption.AllDirectories) : [];
    }

    private static MultipartFormDataContent Part(string name, byte[] bytes) => new() { { new ByteArrayContent(bytes), "file", name } };
}
