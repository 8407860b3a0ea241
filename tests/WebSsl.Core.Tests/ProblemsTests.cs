namespace WebSsl.Core.Tests;

/// <summary>The one mapping from a kind of problem to what each surface reports.</summary>
public sealed class ProblemsTests
{
    [Theory]
    [InlineData(ProblemKind.BadInput, 400, 2)]
    [InlineData(ProblemKind.Unauthorized, 401, 2)]
    [InlineData(ProblemKind.Forbidden, 403, 2)]
    [InlineData(ProblemKind.NotFound, 404, 2)]
    [InlineData(ProblemKind.Conflict, 409, 75)]
    [InlineData(ProblemKind.TooLarge, 413, 2)]
    [InlineData(ProblemKind.Unsupported, 415, 2)]
    [InlineData(ProblemKind.Unprocessable, 422, 2)]
    [InlineData(ProblemKind.InvalidModel, 422, 2)]
    [InlineData(ProblemKind.ModelMismatch, 422, 2)]
    [InlineData(ProblemKind.Unavailable, 502, 75)]
    [InlineData(ProblemKind.Busy, 503, 75)]
    [InlineData(ProblemKind.Configuration, 500, 2)]
    [InlineData(ProblemKind.JobFailed, 500, 2)]
    public void Each_kind_has_one_http_status_and_one_exit_code(ProblemKind kind, int status, int exitCode)
    {
        Assert.Equal(status, Problems.HttpStatus(kind));
        Assert.Equal(exitCode, Problems.ExitCode(kind));
    }

    [Fact]
    public void Every_kind_is_mapped_deliberately()
    {
        // A new kind must be given its status: the fallback (500) is for faults, never for a kind.
        var mapped = new[] { 400, 401, 403, 404, 409, 413, 415, 422, 500, 502, 503 };
        Assert.All(Enum.GetValues<ProblemKind>(), kind => Assert.Contains(Problems.HttpStatus(kind), mapped));
        Assert.Equal(14, Enum.GetValues<ProblemKind>().Length);
    }

    [Fact]
    public void Problems_with_the_servers_own_models_and_settings_are_not_told_to_clients()
    {
        Assert.False(Problems.IsForClient(ProblemKind.InvalidModel));
        Assert.False(Problems.IsForClient(ProblemKind.ModelMismatch));
        Assert.False(Problems.IsForClient(ProblemKind.Configuration));
        Assert.True(Problems.IsForClient(ProblemKind.BadInput));
        Assert.True(Problems.IsForClient(ProblemKind.Busy));
        Assert.True(Problems.IsRetryable(ProblemKind.Busy));
        Assert.False(Problems.IsRetryable(ProblemKind.BadInput));
    }

    [Fact]
    public void An_exception_carries_its_kind_and_code()
    {
        var e = new BadInputException("temperature is 9; it must be between 0 and 2.", "bad-temperature");
        Assert.Equal((ProblemKind.BadInput, "bad-temperature"), (e.Kind, e.Code));
        Assert.Equal("bad-request", new BadInputException("x").Code);
        Assert.Equal(ProblemKind.NotFound, new NotFoundException("conversation 'x' does not exist.").Kind);
    }
}
