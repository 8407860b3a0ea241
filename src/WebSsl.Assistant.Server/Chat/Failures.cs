using Microsoft.AspNetCore.Http;
using WebSsl.Language.Engine;

namespace WebSsl.Assistant.Server.Chat;

/// <summary>
/// The one place where an error becomes what a client sees, for the hub, the upload and conversation APIs, the OpenAI
/// API and the request policies: a code (the same string in stream errors, problem types and OpenAI error codes), an
/// HTTP status from <see cref="Problems.HttpStatus"/>, and a message.
/// </summary>
public static class Failures
{
    public sealed record Failure(string Code, int Status, string Message)
    {
        /// <summary>Whether this is a fault of the server (logged with its details under <see cref="CorrelationId"/>).</summary>
        public bool IsInternal => CorrelationId is not null;

        public string? CorrelationId { get; init; }
    }

    /// <summary>A refusal by a rule of the server's own (no exception involved).</summary>
    public static Failure Of(ProblemKind kind, string code, string message) => new(code, Problems.HttpStatus(kind), message);

    /// <summary>
    /// What the client is told about <paramref name="exception"/>. Only <see cref="WebSslException"/>s made for clients
    /// carry their message out; anything else is a fault of the server — an <see cref="ArgumentException"/> from deep
    /// inside included — whose message may hold paths or internals: the client gets a fixed text with a correlation id,
    /// and the caller logs the exception under the same id (<see cref="Failure.CorrelationId"/>).
    /// </summary>
    public static Failure Describe(Exception exception) => exception switch
    {
        EngineBusyException b => new(b.Code, Problems.HttpStatus(b.Kind), $"the server is busy: {b.Message} Try again shortly."),
        WebSslException w when Problems.IsForClient(w.Kind) => new(w.Code, Problems.HttpStatus(w.Kind), w.Message),
        OperationCanceledException => new("cancelled", 499, "the request was cancelled."),
        _ => Internal(Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 6))),
    };

    private static Failure Internal(string correlationId) => new("internal", StatusCodes.Status500InternalServerError,
        $"internal error {correlationId}: the server could not complete the request; its log has the details under this id.")
    {
        CorrelationId = correlationId,
    };

    /// <summary>An RFC 9457 problem body whose type URI names the rule; "code" is the same code as in stream errors.</summary>
    public static IResult Problem(Failure failure, string? title = null) => Results.Problem(
        title: title ?? failure.Code,
        detail: failure.Message,
        statusCode: failure.Status == 499 ? StatusCodes.Status400BadRequest : failure.Status,
        type: $"https://webssl.dev/problems/{failure.Code}",
        extensions: failure.CorrelationId is null
            ? new Dictionary<string, object?> { ["code"] = failure.Code }
            : new Dictionary<string, object?> { ["code"] = failure.Code, ["correlation_id"] = failure.CorrelationId });
}
