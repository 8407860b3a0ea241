using System.Diagnostics;
using System.Text.Json.Nodes;

namespace WebSsl.Assistant.Cli.Tests;

/// <summary><c>webssl train</c> as a user runs it, including being killed and started again.</summary>
public sealed class TrainCommandTests(TrainingWorld world) : IClassFixture<TrainingWorld>
{
    private string[] TrainArgs(string output, int steps) =>
    [
        "train", "--data", world.DataFile, "--images", world.ImageDirectory, "--encoder", world.EncoderDirectory, "--llm", world.LlmPath,
        "--out", output, "--max-steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch-size", "8", "--lr", "5e-3",
        "--checkpoint-every", "25", "--validate-every", "100000",
    ];

    [Fact]
    public async Task Killed_with_SIGKILL_and_started_again_it_resumes_onto_the_same_loss_curve()
    {
        const int Steps = 400;
        string uninterrupted = world.Sub("uninterrupted"), interrupted = world.Sub("interrupted");
        CliRun straight = await CliRun.Webssl(TrainArgs(uninterrupted, Steps));
        Assert.True(straight.ExitCode == 0, straight.Error);

        using (Process first = StartWebssl(TrainArgs(interrupted, Steps)))
        {
            string log = Path.Combine(interrupted, "train-log.jsonl");
            var watch = Stopwatch.StartNew();
            while (LastStep(log) < 140 && !first.HasExited && watch.Elapsed < TimeSpan.FromMinutes(3))
            {
                await Task.Delay(10);
            }
            Assert.False(first.HasExited, "the run finished before it could be killed");
            first.Kill(entireProcessTree: true); // SIGKILL: no cleanup runs
            await first.WaitForExitAsync();
        }
        int killedAt = LastStep(Path.Combine(interrupted, "train-log.jsonl"));
        Assert.InRange(killedAt, 140, Steps - 1);
        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(interrupted, "checkpoints")), d => d.EndsWith(".partial", StringComparison.Ordinal) && File.Exists(Path.Combine(d, "state.json")));

        CliRun resumed = await CliRun.Webssl(TrainArgs(interrupted, Steps));
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("resumed after step", resumed.Output);

        double[] expected = Losses(uninterrupted), actual = Losses(interrupted);
        Assert.Equal(Steps, expected.Length);
        Assert.Equal(Steps, actual.Length);
        for (int i = 0; i < Steps; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"step {i + 1}: {expected[i]} vs {actual[i]}");
        }
    }

    [Fact]
    public async Task Ask_about_an_image_with_a_trained_adapter_streams_the_answer_and_the_timing_line()
    {
        string adapter = world.Sub("adapter-for-ask");
        CliRun train = await CliRun.Webssl(TrainArgs(adapter, 200));
        Assert.True(train.ExitCode == 0, train.Error);
        for (int i = 0; i < 2; i++)
        {
            CliRun ask = await CliRun.Webssl("ask", "--encoder", world.EncoderDirectory, "--llm", world.LlmPath, "--adapter", adapter,
                "--image", Path.Combine(world.ImageDirectory, $"chart-{i}.png"), "what is this?");
            Assert.True(ask.ExitCode == 0, ask.Error);
            Assert.Equal(TrainingWorld.Answers[i], ask.Output.Trim());
            Assert.Contains("56x42->42px pad, 9 tokens", ask.Error);
            Assert.Contains("finish EndOfGeneration", ask.Error);
        }
        CliRun noAdapter = await CliRun.Webssl("ask", "--llm", world.LlmPath, "--image", Path.Combine(world.ImageDirectory, "chart-0.png"), "what?");
        Assert.Equal(2, noAdapter.ExitCode);
        Assert.Contains("need --encoder, --adapter and --llm together", noAdapter.Error);
    }

    [Fact]
    public async Task An_explicit_resume_without_a_checkpoint_is_refused()
    {
        CliRun run = await CliRun.Webssl([.. TrainArgs(world.Sub("nothing-yet"), 10), "--resume"]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("holds no checkpoint", run.Error);
    }

    [Fact]
    public async Task Check_llm_passes_a_float32_model_and_prints_the_difference()
    {
        CliRun run = await CliRun.Webssl("check-llm", "--llm", world.LlmPath);
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"PASS: llama \(F32\), \d+ positions \(8 injected embeddings\): max \|logit difference\| [\d.]+E-0\d\d, [\d.]+% of the logits' spread \(threshold 1E-003\)", run.Output);
    }

    [Fact]
    public async Task Validate_data_lists_problems_by_line_and_strict_fails()
    {
        string data = world.File("with-problems.jsonl");
        var good = JsonNode.Parse(File.ReadAllText(world.DataFile))!.AsArray()[0]!.ToJsonString();
        File.WriteAllLines(data, [good, "{broken", good.Replace("chart-0.png", "missing.png", StringComparison.Ordinal)]);
        CliRun lenient = await CliRun.Webssl("validate-data", "--data", data, "--images", world.ImageDirectory, "--llm", world.LlmPath, "--image-tokens", "9");
        Assert.Equal(0, lenient.ExitCode);
        Assert.Contains(":2: not valid JSON", lenient.Output);
        Assert.Contains(":3 (chart-0): image missing.png not found", lenient.Output);
        Assert.Contains("3 records: 1 usable, 2 with problems (training drops them", lenient.Output);
        CliRun strict = await CliRun.Webssl("validate-data", "--data", data, "--images", world.ImageDirectory, "--strict");
        Assert.Equal(2, strict.ExitCode);
        Assert.Contains("not checked (no --llm)", strict.Output);
    }

    private static Process StartWebssl(string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "webssl.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static int LastStep(string log)
    {
        if (!File.Exists(log))
        {
            return 0;
        }
        try
        {
            using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            int last = 0;
            while (reader.ReadLine() is { } line)
            {
                if (line.Contains("\"type\":\"train\"", StringComparison.Ordinal) && JsonNode.Parse(line)?["step"]?.GetValue<int>() is int step)
                {
                    last = step;
                }
            }
            return last;
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            return 0;
        }
    }

    private static double[] Losses(string output) =>
        File.ReadLines(Path.Combine(output, "train-log.jsonl"))
            .Select(l => JsonNode.Parse(l)!)
            .Where(n => n["type"]!.GetValue<string>() == "train")
            .Select(n => n["loss"]!.GetValue<double>())
            .ToArray();
}
