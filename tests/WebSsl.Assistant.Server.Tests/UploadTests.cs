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

    [Fact]
    public async Task A_pdf_upload_stores_one_image_per_page_in_page_order_and_a_question_reads_the_pages_it_names()
    {
        await using RunningServer server = await world.StartAsync();
        // Pages of three sizes, so that each stored page is known by its size (one point per pixel: 72 dpi gives the sizes back).
        byte[] pdf = TestDocuments.PdfOf(
            TestImages.Encode(TestImages.Gradient(60, 40), new SixLabors.ImageSharp.Formats.Png.PngEncoder()),
            TestImages.Encode(TestImages.Gradient(40, 60), new SixLabors.ImageSharp.Formats.Png.PngEncoder()),
            File.ReadAllBytes(world.Image(3)));

        HttpResponseMessage response = await server.Http.PostAsync("api/images?dpi=72", Part("charts.pdf", pdf));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        StoredDocument document = (await response.Content.ReadFromJsonAsync<StoredDocument>())!;
        Assert.Equal(("charts.pdf", 3, 72), (document.Name, document.PageCount, document.Dpi));
        Assert.Equal([1, 2, 3], document.Pages.Select(p => p.Page));
        Assert.Equal([(60, 40), (40, 60), (56, 42)], document.Pages.Select(p => (p.Width, p.Height)));
        Assert.Equal(document.Pages[0].Url, response.Headers.Location?.OriginalString);
        Assert.Equal("image/png", (await server.Http.GetAsync(document.Pages[2].Url)).Content.Headers.ContentType?.MediaType);

        // The pages the user kept, in the order given; each reported as it was read.
        await using HubConnection hub = await server.ConnectAsync();
        List<StreamEvent> events = await RunningServer.AskAsync(hub, new AskRequest { Text = "what is this?", ImageIds = [document.Pages[2].Id, document.Pages[0].Id] });
        Assert.Equal([(56, 42), (60, 40)], events.Where(e => e.Type == "image-processed").Select(e => (e.Image!.Width, e.Image.Height)));
        Assert.Equal("done", events[^1].Type);

        // A page range, at the resolution chosen for the reader.
        StoredDocument range = (await (await server.Http.PostAsync("api/images?pages=2-3", Part("charts.pdf", pdf))).Content.ReadFromJsonAsync<StoredDocument>())!;
        Assert.Equal([2, 3], range.Pages.Select(p => p.Page));
        Assert.Equal(server.Assistant.DocumentRendering.DpiFor(40, 60), range.Dpi);
        Assert.Equal((40 * range.Dpi + 71) / 72, range.Pages[0].Width);
    }

    public static TheoryData<string, string, int, string> BadDocuments => new()
    {
        { "corrupt", "", 422, "pdf-rejected" },
        { "pages-outside", "?pages=4", 400, "pdf-rejected" },
        { "bad-range", "?pages=3-1", 400, "bad-request" },
        { "bad-dpi", "?dpi=9000", 400, "bad-request" },
    };

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public async Task A_bad_pdf_upload_is_a_4xx_problem_naming_the_file_and_nothing_is_stored(string kind, string query, int status, string code)
    {
        await using RunningServer server = await world.StartAsync();
        byte[] pdf = kind == "corrupt" ? "%PDF-1.7\nthis is not a document"u8.ToArray() : TestDocuments.PdfOf(File.ReadAllBytes(world.Image(0)));

        HttpResponseMessage response = await server.Http.PostAsync($"api/images{query}", Part("scan.pdf", pdf));

        Assert.Equal(status, (int)response.StatusCode);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        string detail = problem.GetProperty("detail").GetString()!;
        Assert.True(detail.StartsWith("scan.pdf: ", StringComparison.Ordinal) || detail.StartsWith("pages '3-1'", StringComparison.Ordinal) || detail.StartsWith("dpi '9000'", StringComparison.Ordinal), detail);
        Assert.Empty(StoredFiles(server));
    }

    private static IEnumerable<string> StoredFiles(RunningServer server)
    {
        string images = Path.Combine(server.DataDirectory, "images");
        return Directory.Exists(images) ? Directory.EnumerateFiles(images, "*", SearchOption.AllDirectories) : [];
    }

    private static MultipartFormDataContent Part(string name, byte[] bytes) => new() { { new ByteArrayContent(bytes), "file", name } };
}
