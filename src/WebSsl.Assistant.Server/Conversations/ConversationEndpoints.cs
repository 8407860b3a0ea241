using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WebSsl.Assistant.Server.Chat;

namespace WebSsl.Assistant.Server.Conversations;

public sealed record RenameRequest(string? Title);

/// <summary>List, open, rename and delete stored conversations: /api/conversations[/{id}].</summary>
public static class ConversationEndpoints
{
    private const int MaxTitle = 200;

    public static void MapConversationEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/api/conversations").DisableAntiforgery();
        group.MapGet("/", async (ConversationStore store, CancellationToken ct) => Results.Ok(await store.ListAsync(ct)));
        group.MapGet("/{id}", async (string id, ConversationStore store, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } conversation ? Results.Ok(conversation) : NotFound(id));
        group.MapPatch("/{id}", async (string id, RenameRequest? body, ConversationStore store, CancellationToken ct) =>
        {
            string title = body?.Title?.Trim() ?? "";
            if (title.Length is 0 or > MaxTitle)
            {
                return Failures.Problem(Failures.Of(ProblemKind.BadInput, "bad-request", $"a title needs 1 to {MaxTitle} characters; send {{\"title\": \"...\"}}."));
            }
            if (!await store.RenameAsync(id, title, ct))
            {
                return NotFound(id);
            }
            return Results.Ok(await store.GetAsync(id, ct));
        });
        group.MapDelete("/{id}", async (string id, ConversationStore store, ChatService chat, CancellationToken ct) =>
        {
            if (!await store.DeleteAsync(id, ct))
            {
                return NotFound(id);
            }
            chat.Forget(id);
            return Results.NoContent();
        });
    }

    private static IResult NotFound(string id) => Failures.Problem(Failures.Of(ProblemKind.NotFound, "conversation-not-found", $"conversation '{id}' does not exist."));
}
