namespace WebSsl.HuggingFace.Tests;

/// <summary>Hub errors are problems of the one error model: a kind (status, exit code) and a code of their own.</summary>
public sealed class HubErrorTests
{
    [Theory]
    [InlineData(HubErrorKind.RepositoryNotFound, "hub-repository-not-found", 404, 2)]
    [InlineData(HubErrorKind.FileNotFound, "hub-file-not-found", 404, 2)]
    [InlineData(HubErrorKind.Unauthorized, "hub-unauthorized", 401, 2)]
    [InlineData(HubErrorKind.Corrupted, "hub-corrupted", 502, 75)]
    [InlineData(HubErrorKind.Unavailable, "hub-unavailable", 502, 75)]
    public void Each_hub_error_has_a_code_status_and_exit_code(HubErrorKind kind, string code, int status, int exitCode)
    {
        var e = new HubException(kind, "what happened");
        Assert.Equal(kind, e.Kind);
        Assert.Equal(code, e.Code);
        Assert.Equal(status, Problems.HttpStatus(((WebSslException)e).Kind));
        Assert.Equal(exitCode, Problems.ExitCode(((WebSslException)e).Kind));
    }
}
