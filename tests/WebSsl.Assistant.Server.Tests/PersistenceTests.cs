using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Assistant.Server.Conversations;

namespace WebSsl.Assistant.Server.Tests;

/// <summary>Conversations live in SQLite: they survive a restart and can be listed, opened, renamed and deleted.</summary>
[Collection(ServerCollection.Name)]
public sealed class PersistenceTests(ServerWorld world)
{
    [Fact]
    public async Task Conversations_survive_a_restart_and_continue_where_they_were()
    {
        string data = Directory.CreateTempSubdirectory("webssl-server-").FullName;
        string conversationId;
        await using (RunningServer first = await world.StartAsync(dataDirectory: data))
        {
            string image = (await first.UploadAsync(world.Image(6))).Id;
            await using HubConnection hub = await first.ConnectAsync();
            List<StreamEvent> events = await RunningServer.AskAsync(hub, new AskRequest { Text = "what is this?", ImageIds = [image] });
            conversationId = events[0].ConversationId!;
        }

        await using RunningServer second = await world.StartAsync(dataDirectory: data);
        ConversationSummary listed = Assert.Single((await second.Http.GetFromJsonAsync<List<ConversationSummary>>("api/conversations"))!);
        Assert.Equal((conversationId, 1), (listed.Id, listed.Turns));
        Conversation restored = (await second.Http.GetFromJsonAsync<Conversation>($"api/conversations/{conversationId}"))!;
        ConversationTurn turn = Assert.Single(restored.Turns);
        Assert.Equal((TurnStatus.Done, ServerWorld.Answer(6)), (turn.Status, turn.Answer.Trim()));
        Assert.NotNull(turn.Details);
        Assert.Equal(HttpStatusCode.OK, (await second.Http.GetAsync($"api/images/{turn.ImageIds[0]}")).StatusCode);

        // The restored conversation continues: its history (with the image) is replayed to the new server's engine.
        await using HubConnection again = await second.ConnectAsync();
        List<StreamEvent> followUp = await RunningServer.AskAsync(again, new AskRequest { ConversationId = conversationId, Text = "and this?", MaxTokens = 8 });
        Assert.Equal("done", followUp[^1].Type);
        Assert.True(followUp[^1].Done!.Usage.ImageTokens > 0);
    }

    [Fact]
    public async Task Many_conversations_stay_bounded_in_memory_and_old_ones_continue_from_the_database()
    {
        await using RunningServer server = await world.StartAsync();
        await using HubConnection hub = await server.ConnectAsync();
        var ids = new List<string>();
        for (int i = 0; i < 70; i++)
        {
            ids.Add((await RunningServer.AskAsync(hub, new AskRequest { Text = $"question {i}", MaxTokens = 2 }))[0].ConversationId!);
        }
        Assert.Equal(70, (await server.Http.GetFromJsonAsync<List<ConversationSummary>>("api/conversations"))!.Count);
        Assert.True(server.Assistant.Sessions.Count <= server.Assistant.Sessions.Capacity);

        List<StreamEvent> oldest = await RunningServer.AskAsync(hub, new AskRequest { ConversationId = ids[0], Text = "still there?", MaxTokens = 2 });

        Assert.Equal("done", oldest[^1].Type);
        Assert.Equal(2, (await server.Http.GetFromJsonAsync<Conversation>($"api/conversations/{ids[0]}"))!.Turns.Count);
    }

    [Fact]
    public async Task A_turn_interrupted_by_a_shutdown_is_kept_and_marked()
    {
        string data = Directory.CreateTempSubdirectory("webssl-server-").FullName;
        string conversationId;
        await using (RunningServer first = await world.StartAsync(dataDirectory: data))
        {
            var store = new ConversationStore(Path.Combine(data, "conversations.db"));
            conversationId = (await store.CreateAsync("left running")).Id;
            await store.AddTurnAsync(conversationId, "a question the server never finished", [], "general");
        }
        await using RunningServer second = await world.StartAsync(dataDirectory: data);
        ConversationTurn turn = Assert.Single((await second.Http.GetFromJsonAsync<Conversation>($"api/conversations/{conversationId}"))!.Turns);
        Assert.Equal(TurnStatus.Interrupted, turn.Status);
        Assert.Equal("a question the server never finished", turn.Question);
    }

    [Fact]
    public async Task Conversations_can_be_renamed_and_deleted()
    {
        await using RunningServer server = await world.StartAsync();
        await using HubConnection hub = await server.ConnectAsync();
        string id = (await RunningServer.AskAsync(hub, new AskRequest { Text = "hello", MaxTokens = 4 }))[0].ConversationId!;

        HttpResponseMessage renamed = await server.Http.PatchAsJsonAsync($"api/conversations/{id}", new { title = "Quarterly chart" });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("Quarterly chart", (await server.Http.GetFromJsonAsync<List<ConversationSummary>>("api/conversations"))!.Single().Title);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.PatchAsJsonAsync($"api/conversations/{id}", new { title = " " })).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await server.Http.DeleteAsync($"api/conversations/{id}")).StatusCode);
        Assert.Empty((await server.Http.GetFromJsonAsync<List<ConversationSummary>>("api/conversations"))!);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"api/conversations/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.DeleteAsync($"api/conversations/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_database_from_a_newer_server_is_refused_not_damaged()
    {
        string data = Directory.CreateTempSubdirectory("webssl-server-").FullName;
        var store = new ConversationStore(Path.Combine(data, "conversations.db"));
        await store.InitializeAsync();
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={store.Path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {ConversationStore.SchemaVersion + 1};";
            await command.ExecuteNonQueryAsync();
        }
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new ConversationStore(store.Path).InitializeAsync());
        Assert.Contains("newer than this server", error.Message);
    }
}
