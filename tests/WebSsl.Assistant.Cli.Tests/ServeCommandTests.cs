using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

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
        Assert.Contains($"serving the demo assistant from {demo}", output.ToString()); // the bundle built above, not a new one
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

    [Fact]
    public async Task Serve_never_writes_the_api_key_to_its_log()
    {
        const string key = "log-probe-key-0123456789abcdef";
        using var world = new TrainingWorld();
        using var data = new TempDirectory();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "webssl.dll"), "serve", "--urls", "http://127.0.0.1:0", "--data-dir", data.Path,
                "--encoder", world.EncoderDirectory, "--llm", world.LlmPath, "--adapter", Path.Combine(world.Root, "no-adapter-here") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Server__ApiKey"] = key;
        // A careless setting that would print every request URL, as ASP.NET Core's hosting layer does by default.
        start.Environment["Logging__LogLevel__Default"] = "Debug";
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
        using Process server = Process.Start(start)!;
        var log = new StringBuilder();
        server.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        server.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        string Log() { lock (log) { return log.ToString(); } }
        try
        {
            Match address = Match.Empty;
            for (int i = 0; i < 600 && !(address = ServingLine().Match(Log())).Success && !server.HasExited; i++)
            {
                await Task.Delay(100);
            }
            Assert.True(address.Success, $"no 'serving' line: {Log()}");
            var root = new Uri(address.Groups[1].Value);

            // A browser's hub handshake (key in the query), then URLs that carry the key where it is not accepted.
            using (var socket = new ClientWebSocket())
            {
                await socket.ConnectAsync(new Uri($"ws://{root.Authority}/hubs/assistant?access_token={key}"), CancellationToken.None);
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            }
            using var http = new HttpClient { BaseAddress = root };
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"api/conversations?access_token={key}")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"api/images/{new string('a', 64)}?access_token={key}")).StatusCode);
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/conversations")).StatusCode);

            // Every request is logged (path and status), so the absence of the key below is not the absence of logging.
            for (int i = 0; i < 100 && !(Log().Contains("/hubs/assistant") && Log().Contains("/api/images/")); i++)
            {
                await Task.Delay(100);
            }
            string written = Log();
            Assert.Contains("/hubs/assistant", written);
            Assert.Contains("/api/images/", written);
            Assert.Contains("StatusCode: 401", written);
            Assert.DoesNotContain(key, written);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    [GeneratedRegex(@"serving (http://\S+?)(?: |$)", RegexOptions.Multiline)]
    private static partial Regex ServingLine();
}
