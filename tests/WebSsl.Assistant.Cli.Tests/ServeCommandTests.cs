using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using WebSsl.Training.Tests.Training;

namespace WebSsl.Assistant.Cli.Tests;

public sealed partial class ServeCommandTests
{
    [Fact]
    public async Task Serve_with_some_models_but_not_all_says_what_is_missing()
    {
        using var data = new TempDirectory();
        CliRun run = await CliRun.Webssl("serve", "--data-dir", data.Path, "--urls", "http://127.0.0.1:0", "--llm", "model.gguf");
        Assert.Equal(WebSslCli.InputError, run.ExitCode);
        Assert.Contains("serve needs --encoder, --adapter too", run.Error);
    }

    [Fact]
    public async Task Serve_without_models_serves_the_demo_assistant_and_labels_it_as_a_demo()
    {
        using var data = new TempDirectory();
        string demo = Path.Combine(data.Path, "demo");
        CliRun build = await CliRun.Webssl("demo", "--dir", demo, "--steps", "2", "--train-images", "12", "--test-images", "3", "--batch-size", "4");
        Assert.Equal(0, build.ExitCode);
        Assert.Contains("blind (--no-image)", build.Output);
        CliRun again = await CliRun.Webssl("demo", "--dir", demo, "--steps", "2", "--train-images", "12", "--test-images", "3", "--batch-size", "4");
        Assert.Contains("cached in", again.Output);

        using var stop = new CancellationTokenSource();
        var output = new StringWriter();
        var error = new StringWriter();
        Task<int> serving = WebSslCli.RunAsync(["serve", "--urls", "http://127.0.0.1:0", "--data-dir", data.Path, "--demo-dir", demo], TextReader.Null, output, error, stop.Token);
        Match address = Match.Empty;
        for (int i = 0; i < 300 && !(address = ServingLine().Match(output.ToString())).Success && !serving.IsCompleted; i++)
        {
            await Task.Delay(100);
        }
        Assert.True(address.Success, $"no 'serving' line; stdout: {output} stderr: {error}");
        Assert.Contains("cached in", output.ToString()); // the bundle built above, not a new one
        using var http = new HttpClient { BaseAddress = new Uri(address.Groups[1].Value) };
        JsonElement info;
        do
        {
            await Task.Delay(100);
            info = await http.GetFromJsonAsync<JsonElement>("api/info");
        }
        while (info.GetProperty("status").GetString() == "loading");

        Assert.Equal("ready", info.GetProperty("status").GetString());
        Assert.StartsWith("Demo model trained on synthetic charts", info.GetProperty("notice").GetString());
        Assert.Contains("webssl-demo-llm (tuned)", info.GetProperty("description").GetString());
        Assert.Equal("webssl-demo", info.GetProperty("model").GetString());
        Assert.Matches(@"\(\d+% on held-out synthetic questions, \d+% without the image\)", info.GetProperty("notice").GetString());
        stop.Cancel();
        Assert.Equal(0, await serving);
    }

    [Fact]
    public async Task Serve_refuses_a_public_binding_without_an_api_key()
    {
        using var data = new TempDirectory();
        CliRun run = await CliRun.Webssl("serve", "--urls", "http://0.0.0.0:0", "--data-dir", data.Path, "--encoder", data.Path, "--llm", "x.gguf", "--adapter", data.Path);
        Assert.Equal(WebSslCli.InputError, run.ExitCode);
        Assert.Contains("without an API key", run.Error);
    }

    [Fact]
    public async Task Serve_listens_reports_model_problems_on_health_and_stops_on_cancel()
    {
        using var world = new TrainingWorld();
        using var data = new TempDirectory();
        using var stop = new CancellationTokenSource();
        var output = new StringWriter();
        var error = new StringWriter();
        Task<int> serving = WebSslCli.RunAsync(["serve", "--urls", "http://127.0.0.1:0", "--data-dir", data.Path, "--encoder", world.EncoderDirectory,
            "--llm", world.LlmPath, "--adapter", Path.Combine(world.Root, "no-adapter-here")], TextReader.Null, output, error, stop.Token);

        Match address = Match.Empty;
        for (int i = 0; i < 300 && !(address = ServingLine().Match(output.ToString())).Success && !serving.IsCompleted; i++)
        {
            await Task.Delay(100);
        }
        Assert.True(address.Success, $"no 'serving' line; stdout: {output} stderr: {error}");
        using var http = new HttpClient { BaseAddress = new Uri(address.Groups[1].Value) };
        HttpResponseMessage health;
        JsonElement body;
        do
        {
            await Task.Delay(100);
            health = await http.GetAsync("health");
            body = await health.Content.ReadFromJsonAsync<JsonElement>();
        }
        while (body.GetProperty("status").GetString() == "loading");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("no-adapter-here", body.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/")).StatusCode);
        Assert.True(File.Exists(Path.Combine(data.Path, "conversations.db")));

        stop.Cancel();
        Assert.Equal(0, await serving);
    }

    [GeneratedRegex(@"serving (http://\S+?)(?: |$)", RegexOptions.Multiline)]
    private static partial Regex ServingLine();
}
