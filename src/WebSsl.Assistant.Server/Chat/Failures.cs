using Microsoft.AspNetCore.Http;
using WebSsl.Language.Engine;
using WebSsl.Multimodal.Assistant;
using WebSsl.Vision.Images;

namespace WebSsl.Assistant.Server.Chat;

/// <summary>A request the server refuses, with the code clients see, the HTTP status and a message naming the rule.</summary>
public sealed class RequestRefusedException(string code, int status, string message) : Exception(message)
{
    public string Code { get; } = code;
    public int Status { get; } = status;
}

/// <summary>One mapping from exceptions to what clients see, shared by the hub, the upload API and the OpenAI API.</summary>
public static class Failures
{
    public sealed record Failure(string Code, int Status, string Message);

    /// <summary>
    /// What the client is told. Only exceptions made for clients carry their message out; anything else is a fault of
    /// the server, whose message may hold paths or internals: the client gets a fixed text and the caller logs the rest.
    /// </summary>
    public static Failure Describe(Exception exception) => exception switch
    {
        RequestRefusedException r => new(r.Code, r.Status, r.Message),
        ImageRejectedException i => new("image-rejected", StatusFor(i.Reason), i.Message),
        ImageDecodeBusyException d => new("busy", StatusCodes.Status503ServiceUnavailable, d.Message),
        EngineBusyException b => new("busy", StatusCodes.Status503ServiceUnavailable, $"the server is busy: {b.Message} Try again shortly."),
        ConversationBusyException c => new("conversation-busy", StatusCodes.Status409Conflict, c.Message),
        PromptTooLongException p => new("prompt-too-long", StatusCodes.Status400BadRequest, p.Message),
        ArgumentException a => new("bad-request", StatusCodes.Status400BadRequest, a.Message),
        OperationCanceledException => new("cancelled", 499, "the request was cancelled."),
        _ => new("internal", StatusCodes.Status500InternalServerError, "internal error: the server could not complete the request; its log has the details."),
    };

    /// <summary>Problem types for images: the bytes are wrong (415, 422) or too big (413), never a server fault.</summary>
    public static int StatusFor(ImageRejection reason) => reason switch
    {
        ImageRejection.Empty => StatusCodes.Status400BadRequest,
        ImageRejection.TooManyBytes => StatusCodes.Status413PayloadTooLarge,
        ImageRejection.UnsupportedFormat => StatusCodes.Status415UnsupportedMediaType,
        _ => StatusCodes.Status422UnprocessableEntity,
    };

    /// <summary>An RFC 9457 problem body whose type URI names the rule; "code" is the same code as in stream errors.</summary>
    public static IResult Problem(Failure failure, string? title = null) => Results.Problem(
        title: title ?? failure.Code,
        detail: failure.Message,
        statusCode: failure.Status == 499 ? StatusCodes.Status400BadRequest : failure.Status,
        type: $"https://webssl.dev/problems/{failure.Code}",
        extensions: new Dictionary<string, object?> { ["code"] = failure.Code });
}
