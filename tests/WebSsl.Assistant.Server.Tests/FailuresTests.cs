using WebSsl.Assistant.Server.Chat;
using WebSsl.Language.Engine;
using WebSsl.Multimodal.Assistant;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Images;

namespace WebSsl.Assistant.Server.Tests;

/// <summary>What clients are told about an error: one mapping for the hub, the REST APIs and the OpenAI API.</summary>
public sealed class FailuresTests
{
    [Fact]
    public void User_mistakes_keep_their_message_and_get_their_kinds_status()
    {
        Assert.Equal(("image-rejected", 413), Code(new ImageRejectedException("a.png", ImageRejection.TooManyBytes, "40 MB is over the limit of 32 MB.")));
        Assert.Equal(("image-rejected", 415), Code(new ImageRejectedException("a.txt", ImageRejection.UnsupportedFormat, "not an image.")));
        Assert.Equal(("image-rejected", 422), Code(new ImageRejectedException("a.png", ImageRejection.Truncated, "ends early.")));
        Assert.Equal(("conversation-busy", 409), Code(new ConversationBusyException()));
        Assert.Equal(("busy", 503), Code(new EngineBusyException("4 generating.")));
        Assert.Equal(("prompt-too-long", 400), Code(new PromptTooLongException("5000 positions.")));
        Assert.Equal(("bad-request", 400), Code(new BadInputException("temperature is 9.")));
        Failures.Failure told = Failures.Describe(new BadInputException("temperature is 9; it must be between 0 and 2."));
        Assert.Equal("temperature is 9; it must be between 0 and 2.", told.Message);
        Assert.False(told.IsInternal);
    }

    [Fact]
    public void Anything_else_is_an_internal_error_with_a_correlation_id_and_no_internals()
    {
        // An ArgumentException from deep inside is a bug, not the client's mistake; nor are the server's own model files.
        foreach (Exception fault in new Exception[]
                 {
                     new ArgumentException("/srv/models/secret/encoder: bad shape"),
                     new CheckpointException("/srv/models/secret/model.safetensors", "embeddings.patch_embeddings.projection.weight", "truncated"),
                     new InvalidOperationException("/srv/models/secret: state"),
                 })
        {
            Failures.Failure told = Failures.Describe(fault);
            Assert.Equal(("internal", 500), (told.Code, told.Status));
            Assert.True(told.IsInternal);
            Assert.Matches("^[0-9a-f]{12}$", told.CorrelationId);
            Assert.Contains(told.CorrelationId!, told.Message);
            Assert.DoesNotContain("/srv", told.Message);
        }
        Assert.NotEqual(Failures.Describe(new Exception()).CorrelationId, Failures.Describe(new Exception()).CorrelationId);
    }

    [Fact]
    public void The_problem_body_of_an_internal_error_carries_its_correlation_id_and_a_refusal_does_not()
    {
        Failures.Failure fault = Failures.Describe(new InvalidOperationException("/srv/models/secret: state"));
        var body = Assert.IsType<Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>(Failures.Problem(fault)).ProblemDetails;
        Assert.Equal(500, body.Status);
        Assert.Equal(fault.CorrelationId, body.Extensions["correlation_id"]);
        Assert.Equal("internal", body.Extensions["code"]);
        Assert.DoesNotContain("/srv", body.Detail);

        var refusal = Assert.IsType<Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>(
            Failures.Problem(Failures.Describe(new BadInputException("temperature is 9.")))).ProblemDetails;
        Assert.Equal(400, refusal.Status);
        Assert.False(refusal.Extensions.ContainsKey("correlation_id"));
        Assert.Equal("https://webssl.dev/problems/bad-request", refusal.Type);
    }

    [Fact]
    public void A_cancelled_request_is_not_an_error_of_anyone()
    {
        Failures.Failure told = Failures.Describe(new OperationCanceledException());
        Assert.Equal(("cancelled", 499), (told.Code, told.Status));
        Assert.False(told.IsInternal);
    }

    private static (string, int) Code(Exception e)
    {
        Failures.Failure f = Failures.Describe(e);
        return (f.Code, f.Status);
    }
}
