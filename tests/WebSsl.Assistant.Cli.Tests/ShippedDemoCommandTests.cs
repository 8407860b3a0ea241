using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WebSsl.Training.Demo;

namespace WebSsl.Assistant.Cli.Tests;

/// <summary>
/// A fresh clone's first run: with no models configured, serve and ask use the demo bundle shipped next to the program
/// (adapters/demo-synthetic-charts), at once, and never build one.
/// </summary>
public sealed partial class ShippedDemoCommandTests
{
    /// <summary>Where the build put the shipped bundle: next to the program (here, the test assembly).</summary>
    private static string ShippedDirectory => Path.Combine(AppContext.BaseDirectory, DemoBundle.ShippedFolder);

    private static DemoBundle Shipped => DemoBundle.Open(ShippedDirectory, new DemoOptions());

    private static DemoExample FirstExample => JsonSerializer.Deserialize<List<DemoExample>>(File.ReadAllText(Shipped.Resolve(DemoBundle.ExamplesFile)))![0];

    [Fact]
    public async Task Ask_with_no_model_options_answers_with_the_shipped_demo_and_says_so()
    {
        DemoExample example = FirstExample;
        string image = Path.Combine(Path.GetDirectoryName(Shipped.Resolve(DemoBundle.ExamplesFile))!, example.Image);

        CliRun run = await CliRun.Webssl("ask", "--image", image, "--max-tokens", "8", example.Question);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("no models given: the demo assistant answers", run.Error);
        Assert.Equal(example.BuildAnswer.Trim(), run.Output.Trim());
    }

    [Fact]
    public async Task Demo_shows_the_shipped_bundle_and_its_scores_without_building()
    {
        CliRun run = await CliRun.Webssl("demo");

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain("building", run.Output);
        Assert.Contains("overall", run.Output);
        Assert.Contains("blind (--no-image)", run.Output);
    }

    [Fact]
    public async Task Serve_with_no_models_is_ready_at_once_with_the_shipped_demo_its_examples_and_the_openai_api()
    {
        using var data = new TempDirectory();
        using var stop = new CancellationTokenSource();
        var output = new StringWriter();
        var error = new StringWriter();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Task<int> serving = WebSslCli.RunAsync(["serve", "--urls", "http://127.0.0.1:0", "--data-dir", data.Path], TextReader.Null, output, error, stop.Token);
        Match address = Match.Empty;
        for (int i = 0; i < 300 && !(address = ServingLine().Match(output.ToString())).Success && !serving.IsCompleted; i++)
        {
            await Task.Delay(50);
        }
        Assert.True(address.Success, $"no 'serving' line; stdout: {output} stderr: {error}");
        Assert.Contains($"serving the demo assistant from {ShippedDirectory}", output.ToString());
        using var http = new HttpClient { BaseAddress = new Uri(address.Groups[1].Value) };
        while ((await http.GetAsync("health")).StatusCode != HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"ready after {clock.Elapsed.TotalSeconds:F1} s");

        JsonElement examples = await http.GetFromJsonAsync<JsonElement>("api/examples");
        Assert.True(examples.GetArrayLength() >= 3);
        JsonElement info = await http.GetFromJsonAsync<JsonElement>("api/info");
        Assert.Contains("synthetic", info.GetProperty("notice").GetString());
        DemoExample example = FirstExample;
        string imageId = examples.EnumerateArray().First(e => e.GetProperty("question").GetString() == example.Question).GetProperty("imageId").GetString()!;
        HttpResponseMessage response = await http.PostAsJsonAsync("v1/chat/completions", new JsonObject
        {
            ["max_tokens"] = 8,
            ["messages"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject { ["type"] = "text", ["text"] = example.Question },
                    new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = imageId } }),
            }),
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string answer = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        Assert.Equal(example.BuildAnswer.Trim(), answer.Trim());
        stop.Cancel();
        Assert.Equal(0, await serving);
    }

    [GeneratedRegex(@"serving (http://\S+?)(?: |$)", RegexOptions.Multiline)]
    private static partial Regex ServingLine();
}
