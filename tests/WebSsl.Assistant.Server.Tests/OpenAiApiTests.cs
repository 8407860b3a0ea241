using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebSsl.Assistant.Server.Tests;

/// <summary>The OpenAI-compatible API as an OpenAI client calls it: data URI images, JSON and server-sent events.</summary>
[Collection(ServerCollection.Name)]
public sealed class OpenAiApiTests(ServerWorld world)
{
    private JsonObject Request(int image, bool stream) => new()
    {
        ["model"] = "anything",
        ["stream"] = stream,
        ["stream_options"] = stream ? new JsonObject { ["include_usage"] = true } : null,
        ["messages"] = new JsonArray(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray(
                new JsonObject { ["type"] = "text", ["text"] = "what is this?" },
                new JsonObject
                {
                    ["type"] = "image_url",
                    ["image_url"] = new JsonObject { ["url"] = "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(world.Image(image))) },
                }),
        }),
    };

    [Fact]
    public async Task Chat_completions_answer_about_a_data_uri_image()
    {
        await using RunningServer server = await world.StartAsync();

        HttpResponseMessage response = await server.Http.PostAsJsonAsync("v1/chat/completions", Request(1, stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        JsonElement choice = body.GetProperty("choices")[0];
        Assert.Equal(ServerWorld.Answer(1), choice.GetProperty("message").GetProperty("content").GetString()!.Trim());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.True(body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 0);
        Assert.Equal("webssl-adapter", body.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Streaming_chat_completions_are_server_sent_events_ending_in_done()
    {
        await using RunningServer server = await world.StartAsync();

        using var message = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(Request(4, stream: true)) };
        HttpResponseMessage response = await server.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string[] data = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.StartsWith("data: ", StringComparison.Ordinal) ? e["data: ".Length..] : throw new InvalidDataException(e)).ToArray();
        Assert.Equal("[DONE]", data[^1]);
        JsonElement[] chunks = data[..^1].Select(d => JsonDocument.Parse(d).RootElement).ToArray();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        string text = string.Concat(chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta")).Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString()));
        Assert.Equal(ServerWorld.Answer(4), text.Trim());
        Assert.Contains(chunks, c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("finish_reason").GetString() == "stop");
        Assert.True(chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Uploaded_image_ids_work_as_image_urls()
    {
        await using RunningServer server = await world.StartAsync();
        string id = (await server.UploadAsync(world.Image(5))).Id;
        JsonObject request = Request(5, stream: false);
        request["messages"]![0]!["content"]![1]!["image_url"]!["url"] = $"/api/images/{id}";

        JsonElement body = await (await server.Http.PostAsJsonAsync("v1/chat/completions", request)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(ServerWorld.Answer(5), body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!.Trim());
    }

    /// <summary>OpenAI's file part carries a PDF: its pages are read as the pages uploaded to /api/images, and usage says how.</summary>
    [Fact]
    public async Task A_pdf_file_part_is_read_as_its_pages_and_usage_says_how_each_was_read()
    {
        await using RunningServer server = await world.StartAsync();
        byte[] pdf = TestDocuments.PdfOf(File.ReadAllBytes(world.Image(0)), File.ReadAllBytes(world.Image(1)));
        var form = new MultipartFormDataContent { { new ByteArrayContent(pdf), "file", "charts.pdf" } };
        Images.StoredDocument uploaded = (await (await server.Http.PostAsync("api/images", form)).Content.ReadFromJsonAsync<Images.StoredDocument>())!;
        JsonObject AboutFile() => new()
        {
            ["pages"] = "2",
            ["messages"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject { ["type"] = "text", ["text"] = "what is this?" },
                    new JsonObject
                    {
                        ["type"] = "file",
                        ["file"] = new JsonObject { ["filename"] = "charts.pdf", ["file_data"] = "data:application/pdf;base64," + Convert.ToBase64String(pdf) },
                    }),
            }),
        };
        JsonObject aboutPage = Request(0, stream: false);
        aboutPage["messages"]![0]!["content"]![1]!["image_url"]!["url"] = uploaded.Pages[1].Id;

        JsonElement fromFile = await (await server.Http.PostAsJsonAsync("v1/chat/completions", AboutFile())).Content.ReadFromJsonAsync<JsonElement>();
        JsonElement fromPage = await (await server.Http.PostAsJsonAsync("v1/chat/completions", aboutPage)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(Content(fromPage), Content(fromFile));
        JsonElement usage = fromFile.GetProperty("usage");
        JsonElement image = Assert.Single(usage.GetProperty("images").EnumerateArray());
        Assert.Equal("charts.pdf page 2", image.GetProperty("name").GetString());
        Assert.Equal((uploaded.Pages[1].Width, uploaded.Pages[1].Height), (image.GetProperty("width").GetInt32(), image.GetProperty("height").GetInt32()));
        Assert.Equal((1, 9), (image.GetProperty("views").GetInt32(), image.GetProperty("tokens").GetInt32()));
        Assert.Equal(9, usage.GetProperty("prompt_tokens_details").GetProperty("image_tokens").GetInt32());
        Assert.True(usage.GetProperty("prompt_tokens_details").TryGetProperty("cached_tokens", out _));
    }

    private static string Content(JsonElement completion) => completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    [Fact]
    public async Task Models_lists_the_served_model()
    {
        await using RunningServer server = await world.StartAsync(new() { ["Server:ModelName"] = "charts-7b" });
        JsonElement models = await server.Http.GetFromJsonAsync<JsonElement>("v1/models");
        Assert.Equal("charts-7b", models.GetProperty("data")[0].GetProperty("id").GetString());
    }

    public static TheoryData<string, int, string> BadRequests => new()
    {
        { "{not json", 400, "bad-request" },
        { """{"messages": []}""", 400, "bad-request" },
        { """{"messages": [{"role": "tool", "content": "x"}]}""", 400, "bad-request" },
        { """{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}]}]}""", 400, "bad-request" },
        { """{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,!!!"}}]}]}""", 400, "bad-request" },
        { """{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}}]}]}""", 415, "image-rejected" },
        { """{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1000000}""", 400, "bad-request" },
        { """{"messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-abc"}}]}]}""", 400, "bad-request" },
        { """{"messages": [{"role": "user", "content": [{"type": "file", "file": {"file_data": "data:text/plain;base64,aGVsbG8="}}]}]}""", 400, "bad-request" },
        { """{"messages": [{"role": "user", "content": [{"type": "file", "file": {"filename": "x.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjcKbm90IGEgZG9jdW1lbnQ="}}]}]}""", 422, "pdf-rejected" },
        { """{"messages": [{"role": "user", "content": "hi"}], "pages": "0"}""", 400, "bad-request" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_get_an_openai_error_body(string json, int status, string code)
    {
        await using RunningServer server = await world.StartAsync();

        HttpResponseMessage response = await server.Http.PostAsync("v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        JsonElement error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }
}
