using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel.ChatCompletion;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;
using WebSsl.Vision.Documents;
using ChatMessageContent = Microsoft.SemanticKernel.ChatMessageContent;
using ImageContent = Microsoft.SemanticKernel.ImageContent;

namespace WebSsl.Assistant.SemanticKernel.Tests;

/// <summary>The Microsoft.Extensions.AI and Semantic Kernel faces of the assistant give its answers.</summary>
public sealed class ChatClientTests(AssistantWorld world) : IClassFixture<AssistantWorld>
{
    private ServiceProvider Services() =>
        new ServiceCollection().AddWebSslAssistant(options =>
        {
            options.Assistant = world.Options;
            options.ImageStoreDirectory = world.World.Sub("store");
        }).BuildServiceProvider();

    private static ChatMessage Question(string text, string imagePath) =>
        new(Microsoft.Extensions.AI.ChatRole.User, [new DataContent(File.ReadAllBytes(imagePath), "image/png"), new TextContent(text)]);

    [Fact]
    public async Task The_chat_client_answers_with_images_as_the_assistant_does_and_reports_usage()
    {
        await using ServiceProvider services = Services();
        IChatClient client = services.GetRequiredService<IChatClient>();
        for (int i = 0; i < 3; i++)
        {
            ChatResponse response = await client.GetResponseAsync([Question("what is this?", world.Image(i))]);
            Assert.Equal(TrainingWorld.Answers[i], response.Text.Trim());
            Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
            Assert.NotNull(response.Usage);
            Assert.Equal(9, response.Usage!.AdditionalCounts!["image_tokens"]);
            Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        }
        Assert.Equal("webssl", client.GetService<ChatClientMetadata>()!.ProviderName);
    }

    [Fact]
    public async Task Streaming_gives_the_same_text_and_options_map_to_sampling()
    {
        await using ServiceProvider services = Services();
        IChatClient client = services.GetRequiredService<IChatClient>();
        var updates = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync([Question("what is this?", world.Image(2))]))
        {
            updates.Add(update);
        }
        Assert.Equal(TrainingWorld.Answers[2], string.Concat(updates.Select(u => u.Text)).Trim());

        ChatResponse cut = await client.GetResponseAsync([Question("what is this?", world.Image(2))], new ChatOptions { MaxOutputTokens = 1, Temperature = 0 });
        Assert.Equal(ChatFinishReason.Length, cut.FinishReason);
        Assert.Equal(1, cut.Usage!.OutputTokenCount);
    }

    /// <summary>A PDF is read as its pages: each page exactly as the image it renders to, named after the document.</summary>
    [Fact]
    public async Task A_pdf_is_read_as_its_pages_each_as_the_image_it_renders_to()
    {
        await using ServiceProvider services = Services();
        IChatClient client = services.GetRequiredService<IChatClient>();
        VisionAssistant assistant = await services.GetRequiredService<AssistantHost>().GetAsync();
        byte[] pdf = TestDocuments.PdfOf(File.ReadAllBytes(world.Image(0)), File.ReadAllBytes(world.Image(1)));
        RenderedPage second = (await PdfRenderer.RenderAsync(pdf, "charts.pdf", 2, 2, assistant.DocumentRendering))[0];
        ChatMessage AboutPdf() => new(Microsoft.Extensions.AI.ChatRole.User, [new DataContent(pdf, "application/pdf") { Name = "charts.pdf" }, new TextContent("what is this?")]);

        ChatResponse fromPdf = await client.GetResponseAsync([AboutPdf()], new ChatOptions { AdditionalProperties = new() { ["pages"] = "2" } });
        ChatResponse fromPage = await client.GetResponseAsync([new(Microsoft.Extensions.AI.ChatRole.User, [new DataContent(second.Png, "image/png"), new TextContent("what is this?")])]);

        Assert.Equal(fromPage.Text, fromPdf.Text);
        ImageReport read = Assert.Single(Images(fromPdf));
        Assert.Equal("charts.pdf page 2", read.Name);
        Assert.Equal((second.Width, second.Height), (read.OriginalWidth, read.OriginalHeight));

        ChatResponse whole = await client.GetResponseAsync([AboutPdf()]);
        Assert.Equal(["charts.pdf page 1", "charts.pdf page 2"], Images(whole).Select(i => i.Name));
        Assert.Equal(2 * 9, whole.Usage!.AdditionalCounts!["image_tokens"]);

        // More pages than one question may hold: refused before anything is rendered, with the numbers.
        byte[] five = TestDocuments.PdfOf(Enumerable.Repeat(File.ReadAllBytes(world.Image(0)), 5).ToArray());
        var refused = await Assert.ThrowsAsync<PdfRejectedException>(() => client.GetResponseAsync(
            [new ChatMessage(Microsoft.Extensions.AI.ChatRole.User, [new DataContent(five, "application/pdf") { Name = "long.pdf" }, new TextContent("?")])]));
        Assert.Equal("long.pdf: 5 pages asked for; at most 4 are rendered at once. Ask for a page range.", refused.Message);
        await Assert.ThrowsAsync<BadInputException>(() => client.GetResponseAsync([AboutPdf()], new ChatOptions { AdditionalProperties = new() { ["pages"] = "2-1" } }));
    }

    private static IReadOnlyList<ImageReport> Images(ChatResponse response) =>
        Assert.IsAssignableFrom<IReadOnlyList<ImageReport>>(response.AdditionalProperties?[WebSslChatClient.ImagesProperty]);

    [Fact]
    public async Task A_conversation_id_keeps_the_session_and_images_can_come_as_file_uris()
    {
        await using ServiceProvider services = Services();
        IChatClient client = services.GetRequiredService<IChatClient>();
        var options = new ChatOptions { ConversationId = "c1" };
        var history = new List<ChatMessage>
        {
            new(Microsoft.Extensions.AI.ChatRole.User, [new UriContent(new Uri(world.Image(5)), "image/png"), new TextContent("what is this?")]),
        };
        ChatResponse first = await client.GetResponseAsync(history, options);
        Assert.Equal(TrainingWorld.Answers[5], first.Text.Trim());
        history.AddRange(first.Messages);
        history.Add(new ChatMessage(Microsoft.Extensions.AI.ChatRole.User, "and again?"));
        ChatResponse second = await client.GetResponseAsync(history, options);
        Assert.True(second.Usage!.AdditionalCounts!["cached_prompt_tokens"] >= first.Usage!.InputTokenCount, "the follow-up did not reuse the conversation's cache");
    }

    [Fact]
    public async Task Remote_image_urls_are_refused_with_what_to_do()
    {
        await using ServiceProvider services = Services();
        IChatClient client = services.GetRequiredService<IChatClient>();
        var message = new ChatMessage(Microsoft.Extensions.AI.ChatRole.User, [new UriContent(new Uri("https://example.com/chart.png"), "image/png"), new TextContent("?")]);
        var error = await Assert.ThrowsAsync<BadInputException>(() => client.GetResponseAsync([message]));
        Assert.Contains("not a local file", error.Message);
    }

    [Fact]
    public async Task Semantic_Kernels_chat_completion_service_takes_ChatHistory_with_ImageContent()
    {
        await using ServiceProvider services = Services();
        IChatCompletionService chat = services.GetRequiredService<IChatCompletionService>();
        var history = new ChatHistory();
        history.AddUserMessage([new ImageContent(File.ReadAllBytes(world.Image(6)), "image/png"), new Microsoft.SemanticKernel.TextContent("what is this?")]);
        ChatMessageContent reply = await chat.GetChatMessageContentAsync(history);
        Assert.Equal(TrainingWorld.Answers[6], reply.Content!.Trim());
    }

    [Fact]
    public async Task Configuration_from_appsettings_json_binds_the_assistant()
    {
        string settings = world.World.File("appsettings.json");
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["WebSslAssistant"] = new System.Text.Json.Nodes.JsonObject
            {
                ["Assistant"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["EncoderPath"] = world.World.EncoderDirectory,
                    ["LlmPath"] = world.World.LlmPath,
                    ["AdapterPath"] = world.AdapterDirectory,
                    ["MaxImagesPerTurn"] = 2,
                    ["Engine"] = new System.Text.Json.Nodes.JsonObject { ["MaxSessions"] = 2, ["ContextSize"] = 1024, ["MaxSessionTokens"] = 512 },
                },
                ["ImageStoreDirectory"] = world.World.Sub("store-json"),
            },
        };
        await File.WriteAllTextAsync(settings, json.ToJsonString());
        IConfiguration configuration = new ConfigurationBuilder().AddJsonFile(settings).Build();
        await using ServiceProvider services = new ServiceCollection().AddWebSslAssistant(configuration).BuildServiceProvider();
        AssistantHost host = services.GetRequiredService<AssistantHost>();
        Assert.Equal(2, host.Options.MaxImagesPerTurn);
        ChatResponse response = await services.GetRequiredService<IChatClient>().GetResponseAsync([Question("what is this?", world.Image(7))]);
        Assert.Equal(TrainingWorld.Answers[7], response.Text.Trim());
    }
}
