using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Assistant.Server.Conversations;
using WebSsl.Assistant.Server.Images;

namespace WebSsl.Assistant.Server.Tests;

/// <summary>The SignalR hub as a .NET client uses it: ask about an uploaded image and read the streamed events.</summary>
[Collection(ServerCollection.Name)]
public sealed class HubTests(ServerWorld world)
{
    /// <summary>A question the tiny model answers at length: generation past end-of-text (as llama.cpp's ignore_eos).</summary>
    private static AskRequest Long(string? conversationId = null) =>
        new() { Text = "describe everything", ConversationId = conversationId, MaxTokens = 3500, IgnoreEos = true };

    [Fact]
    public async Task Streams_an_answer_about_an_uploaded_image_and_stores_the_turn()
    {
        await using RunningServer server = await world.StartAsync();
        StoredImage image = await server.UploadAsync(world.Image(0));
        await using HubConnection hub = await server.ConnectAsync();

        List<StreamEvent> events = await RunningServer.AskAsync(hub, new AskRequest { Text = "what is this?", ImageIds = [image.Id] });

        Assert.Equal("started", events[0].Type);
        StreamEvent processed = Assert.Single(events, e => e.Type == "image-processed");
        Assert.Equal((56, 42), (processed.Image!.Width, processed.Image.Height));
        Assert.True(processed.Image.Tokens > 0);
        Assert.Contains(events, e => e.Type == "token");
        StreamEvent done = events[^1];
        Assert.Equal("done", done.Type);
        Assert.Equal(ServerWorld.Answer(0), RunningServer.Text(events).Trim());
        Assert.True(done.Done!.Usage.ImageTokens > 0);
        Assert.True(done.Done.Timings.FirstTokenMs > 0);

        Conversation? stored = await server.Http.GetFromJsonAsync<Conversation>($"api/conversations/{events[0].ConversationId}");
        ConversationTurn turn = Assert.Single(stored!.Turns);
        Assert.Equal((TurnStatus.Done, ServerWorld.Answer(0), image.Id), (turn.Status, turn.Answer.Trim(), turn.ImageIds.Single()));
        Assert.Equal("what is this?", stored.Title);
    }

    [Fact]
    public async Task Disposing_the_stream_stops_the_answer_keeps_the_text_so_far_and_frees_the_slot()
    {
        await using RunningServer server = await world.StartAsync();
        await using HubConnection hub = await server.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var events = new List<StreamEvent>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (StreamEvent e in hub.StreamAsync<StreamEvent>("Ask", Long(), stop.Token))
            {
                events.Add(e);
                if (events.Count(x => x.Type == "token") == 5)
                {
                    stop.Cancel();
                }
            }
        });

        Assert.DoesNotContain(events, e => e.Type == "done");
        string conversationId = events[0].ConversationId!;
        ConversationTurn turn = await WaitForTurnAsync(server, conversationId, t => t.Status != TurnStatus.Running);
        Assert.Equal(TurnStatus.Stopped, turn.Status);
        Assert.StartsWith(RunningServer.Text(events), turn.Answer);
        Assert.True(turn.AnswerTokens.Count == 0 || turn.AnswerTokens.Count < 3500);
        // The engine notices the cancellation at its next decode step and frees the slot.
        for (int i = 0; i < 100 && server.Assistant.Engine.Statistics.Generating > 0; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, server.Assistant.Engine.Statistics.Generating);

        // The same conversation answers again at once: its session was released.
        List<StreamEvent> next = await RunningServer.AskAsync(hub, new AskRequest { ConversationId = conversationId, Text = "and now?", MaxTokens = 8 });
        Assert.Equal("done", next[^1].Type);
    }

    [Fact]
    public async Task A_connection_over_its_stream_limit_is_refused_and_others_carry_on()
    {
        await using RunningServer server = await world.StartAsync(new() { ["Server:MaxStreamsPerConnection"] = "1" });
        await using HubConnection hub = await server.ConnectAsync();
        using var stop = new CancellationTokenSource();
        await using IAsyncEnumerator<StreamEvent> first = hub.StreamAsync<StreamEvent>("Ask", Long(), stop.Token).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());
        Assert.Equal("started", first.Current.Type);

        List<StreamEvent> refused = await RunningServer.AskAsync(hub, new AskRequest { Text = "second" });
        StreamEvent error = Assert.Single(refused);
        Assert.Equal(("error", "stream-limit"), (error.Type, error.Code));

        await using HubConnection other = await server.ConnectAsync();
        Assert.Equal("done", (await RunningServer.AskAsync(other, new AskRequest { Text = "hello", MaxTokens = 4 }))[^1].Type);
        stop.Cancel();
    }

    [Fact]
    public async Task A_full_queue_answers_busy_at_once()
    {
        const string e = "WebSslAssistant:Assistant:Engine:";
        await using RunningServer server = await world.StartAsync(new() { [e + "MaxSessions"] = "1", [e + "MaxQueue"] = "0", [e + "ContextSize"] = "4096" });
        await using HubConnection hub = await server.ConnectAsync();
        using var stop = new CancellationTokenSource();
        await using IAsyncEnumerator<StreamEvent> running = hub.StreamAsync<StreamEvent>("Ask", Long(), stop.Token).GetAsyncEnumerator();
        do
        {
            Assert.True(await running.MoveNextAsync());
        }
        while (running.Current.Type != "token");

        List<StreamEvent> refused = await RunningServer.AskAsync(hub, new AskRequest { Text = "me too", MaxTokens = 4 });
        Assert.Equal(("error", "busy"), (refused[^1].Type, refused[^1].Code));
        Assert.Contains("busy", refused[^1].Message);
        stop.Cancel();
    }

    [Fact]
    public async Task Regenerate_replaces_the_last_answer()
    {
        await using RunningServer server = await world.StartAsync();
        StoredImage image = await server.UploadAsync(world.Image(2));
        await using HubConnection hub = await server.ConnectAsync();
        List<StreamEvent> first = await RunningServer.AskAsync(hub, new AskRequest { Text = "what is this?", ImageIds = [image.Id] });
        string id = first[0].ConversationId!;

        List<StreamEvent> again = await RunningServer.AskAsync(hub, new AskRequest { ConversationId = id, Regenerate = true });

        Assert.Equal(ServerWorld.Answer(2), RunningServer.Text(again).Trim());
        Conversation? stored = await server.Http.GetFromJsonAsync<Conversation>($"api/conversations/{id}");
        Assert.Equal(again[0].TurnId, Assert.Single(stored!.Turns).Id);
    }

    [Theory]
    [InlineData("no-such-conversation", "hello", "conversation-not-found")]
    [InlineData(null, "", "bad-request")]
    public async Task Bad_questions_get_an_error_event_naming_the_rule(string? conversationId, string text, string code)
    {
        await using RunningServer server = await world.StartAsync();
        await using HubConnection hub = await server.ConnectAsync();
        StreamEvent error = Assert.Single(await RunningServer.AskAsync(hub, new AskRequest { ConversationId = conversationId, Text = text }));
        Assert.Equal(("error", code), (error.Type, error.Code));
        Assert.Equal("done", (await RunningServer.AskAsync(hub, new AskRequest { Text = "still there?", MaxTokens = 4 }))[^1].Type);
    }

    [Fact]
    public async Task Nulls_from_a_loose_json_client_are_a_bad_request_not_a_crash()
    {
        await using RunningServer server = await world.StartAsync();
        await using HubConnection hub = await server.ConnectAsync();
        StreamEvent error = Assert.Single(await RunningServer.AskAsync(hub, new AskRequest { Text = null!, ImageIds = null! }));
        Assert.Equal("bad-request", error.Code);
    }

    [Fact]
    public async Task An_unknown_image_id_is_refused()
    {
        await using RunningServer server = await world.StartAsync();
        await using HubConnection hub = await server.ConnectAsync();
        StreamEvent error = Assert.Single(await RunningServer.AskAsync(hub, new AskRequest { Text = "what?", ImageIds = [new string('a', 64)] }));
        Assert.Equal("image-not-found", error.Code);
    }

    internal static async Task<ConversationTurn> WaitForTurnAsync(RunningServer server, string conversationId, Func<ConversationTurn, bool> condition)
    {
        for (int i = 0; ; i++)
        {
            Conversation? c = await server.App.Services.GetRequiredService<ConversationStore>().GetAsync(conversationId);
            if (c?.Turns.LastOrDefault() is { } turn && condition(turn) || i == 100)
            {
                return c!.Turns[^1];
            }
            await Task.Delay(50);
        }
    }
}
