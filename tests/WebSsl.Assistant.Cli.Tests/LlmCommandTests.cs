namespace WebSsl.Assistant.Cli.Tests;

public sealed class LlmCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private async Task<string> TinyLlm()
    {
        string path = _temp.File("tiny.gguf");
        CliRun run = await CliRun.Webssl("fixtures", "llm", "--shape", "tiny", "--out", path);
        Assert.Equal(0, run.ExitCode);
        return path;
    }

    [Fact]
    public async Task Ask_streams_one_answer_to_stdout_and_timings_to_stderr()
    {
        string llm = await TinyLlm();
        CliRun run = await CliRun.Webssl("ask", "--llm", llm, "--temperature", "0", "--max-tokens", "5", "what is the total?");
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"^5 tokens, [\d.]+ tokens/s, prompt \d+ \(0 cached\)", run.Error);
        Assert.EndsWith("finish Length" + Environment.NewLine, run.Error);
    }

    [Fact]
    public async Task Chat_keeps_the_conversation_and_reuses_its_cache()
    {
        string llm = await TinyLlm();
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await WebSslCli.RunAsync(["chat", "--llm", llm, "--temperature", "0", "--max-tokens", "4"],
            new StringReader("hello\nwhat is the chart?\n/reset\nagain\n"), output, error);
        Assert.Equal(0, code);
        string text = output.ToString();
        Assert.Contains("(0 cached)", text);
        Assert.Matches(@"prompt \d+ \([1-9]\d* cached\)", text); // the second turn reuses the first
        Assert.Contains("(new conversation)", text);
    }

    [Fact]
    public async Task A_file_that_is_not_a_model_is_reported_with_exit_code_2()
    {
        string bogus = _temp.File("model.gguf");
        await File.WriteAllTextAsync(bogus, "this is not a model, just text of reasonable length");
        CliRun run = await CliRun.Webssl("ask", "--llm", bogus, "hello");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("not a GGUF file", run.Error);
    }

    [Fact]
    public async Task Bench_llm_compares_the_engine_with_a_bare_loop()
    {
        string llm = await TinyLlm();
        CliRun run = await CliRun.Webssl("bench", "llm", "--llm", llm, "--sessions", "1,2", "--tokens", "8", "--prompt", "32");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("engine / bare", run.Output);
        Assert.Contains("aggregate, 2 sessions", run.Output);
        Assert.Contains("image embeddings", run.Output);
    }

    public void Dispose() => _temp.Dispose();
}
