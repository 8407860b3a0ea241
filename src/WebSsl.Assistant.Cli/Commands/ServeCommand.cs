using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebSsl.Assistant.SemanticKernel;
using WebSsl.Assistant.Server;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;
using WebSsl.Training.Demo;
using WebSsl.Training.Runs;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl serve</c>: the server and browser app. Options here override appsettings.json and the environment.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var encoder = new Option<DirectoryInfo?>("--encoder") { Description = "Web-SSL checkpoint folder (or WebSslAssistant:Assistant:EncoderPath)." };
        var llm = new Option<FileInfo?>("--llm") { Description = "GGUF the adapter was trained for (or WebSslAssistant:Assistant:LlmPath)." };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "Adapter folder (or WebSslAssistant:Assistant:AdapterPath)." };
        var urls = new Option<string?>("--urls") { Description = $"Where to listen, ';'-separated (default {ServerOptions.DefaultUrl}; anything but loopback needs --api-key)." };
        var apiKey = new Option<string?>("--api-key") { Description = "Key clients must send (Authorization: Bearer KEY); required off loopback. Prefer Server__ApiKey in the environment." };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Conversations database and uploaded images (default .webssl)." };
        var maxSessions = new Option<int?>("--max-sessions") { Description = "Conversations whose KV cache stays resident; also the most answers generated at once (default 8)." };
        var maxQueue = new Option<int?>("--max-queue") { Description = "Questions that may wait for a slot before the server answers busy (default 32)." };
        var context_ = new Option<int?>("--context") { Description = "Tokens one conversation may hold (default 4096)." };
        var demo = new Option<bool>("--demo") { Description = "Serve the offline demo assistant even when models are configured (it is also what serve uses when none are)." };
        var demoDir = new Option<DirectoryInfo?>("--demo-dir") { Description = "A demo bundle folder (default: your webssl demo --rebuild, else the one shipped with the repository)." };
        Option<int?> threads = SharedOptions.Threads();
        Option<string> device = SharedOptions.Device();
        var command = new Command("serve", "Run the assistant server: the browser app, the SignalR hub, the image and conversation API and an OpenAI-compatible API. " +
            "With no models configured it serves the offline demo assistant shipped with the repository.")
        {
            encoder, llm, adapter, urls, apiKey, dataDir, maxSessions, maxQueue, context_, demo, demoDir, threads, device,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            const string a = $"{WebSslAssistantOptions.Section}:Assistant:";
            var overrides = new Dictionary<string, string?>();
            void Set(string key, string? value)
            {
                if (value is not null)
                {
                    overrides[key] = value;
                }
            }
            Set(a + nameof(AssistantOptions.EncoderPath), parse.GetValue(encoder)?.FullName);
            Set(a + nameof(AssistantOptions.LlmPath), parse.GetValue(llm)?.FullName);
            Set(a + nameof(AssistantOptions.AdapterPath), parse.GetValue(adapter)?.FullName);
            Set(a + "Engine:MaxSessions", parse.GetValue(maxSessions)?.ToString());
            Set(a + "Engine:MaxQueue", parse.GetValue(maxQueue)?.ToString());
            if (parse.GetValue(context_) is int tokens)
            {
                Set(a + "Engine:MaxSessionTokens", tokens.ToString());
                Set(a + "Engine:ContextSize", (tokens * Math.Max(1, parse.GetValue(maxSessions) ?? 8)).ToString());
            }
            Set(a + nameof(AssistantOptions.Threads), parse.GetValue(threads)?.ToString());
            if (parse.GetResult(device) is { Implicit: false })
            {
                Set(a + nameof(AssistantOptions.Device), parse.GetValue(device));
            }
            Set("urls", parse.GetValue(urls));
            Set($"{ServerOptions.Section}:{nameof(ServerOptions.ApiKey)}", parse.GetValue(apiKey));
            Set($"{ServerOptions.Section}:{nameof(ServerOptions.DataDirectory)}", parse.GetValue(dataDir)?.FullName);

            await using WebApplication configured = AssistantServer.Build([], overrides);
            AssistantOptions assistant = configured.Services.GetRequiredService<IOptions<WebSslAssistantOptions>>().Value.Assistant;
            (string Flag, string Key, string Value)[] paths =
            [
                ("--encoder", nameof(AssistantOptions.EncoderPath), assistant.EncoderPath),
                ("--llm", nameof(AssistantOptions.LlmPath), assistant.LlmPath),
                ("--adapter", nameof(AssistantOptions.AdapterPath), assistant.AdapterPath),
            ];
            bool nothingConfigured = paths.All(p => string.IsNullOrWhiteSpace(p.Value));
            if (parse.GetValue(demo) || nothingConfigured)
            {
                // No models: the demo assistant, labelled as such in the browser app.
                DemoBundle bundle = DemoCommand.Find(parse.GetValue(demoDir)?.FullName);
                await context.Output.WriteLineAsync($"webssl: no models configured: serving the demo assistant from {bundle.Directory}");
                AssistantOptions demoModels = bundle.AssistantOptions();
                overrides[a + nameof(AssistantOptions.EncoderPath)] = demoModels.EncoderPath;
                overrides[a + nameof(AssistantOptions.LlmPath)] = demoModels.LlmPath;
                overrides[a + nameof(AssistantOptions.AdapterPath)] = demoModels.AdapterPath;
                overrides[$"{ServerOptions.Section}:{nameof(ServerOptions.ModelNotice)}"] =
                    $"{DemoBundle.Label} ({Percent(bundle.Scores.Overall)} on held-out synthetic questions, {Percent(bundle.Scores.Blind)} without the image). " +
                    $"It reads only {bundle.Options.ImageSize}×{bundle.Options.ImageSize} synthetic bar and line charts and short documents like its training data; " +
                    "for your own scans serve real Web-SSL models (README, Real models).";
                overrides[$"{ServerOptions.Section}:{nameof(ServerOptions.ExamplesFile)}"] = bundle.Resolve(DemoBundle.ExamplesFile);
                overrides.TryAdd($"{ServerOptions.Section}:{nameof(ServerOptions.ModelName)}", "webssl-demo");
            }
            else
            {
                await UseTunedModelsAsync(context, assistant, overrides, a);
                string[] missing = paths.Where(p => string.IsNullOrWhiteSpace(p.Value) && !overrides.ContainsKey(a + p.Key)).Select(p => p.Flag).ToArray();
                if (missing.Length > 0)
                {
                    throw new BadInputException($"serve needs {string.Join(", ", missing)} too (or WebSslAssistant:Assistant:EncoderPath/LlmPath/AdapterPath in appsettings.json " +
                        "or the environment); with none of them it serves the demo assistant.");
                }
            }
            await using WebApplication app = AssistantServer.Build([], overrides);
            await app.StartAsync(cancellationToken);
            if (!Vision.Documents.PdfRenderer.IsAvailable)
            {
                await context.Error.WriteLineAsync("warning: PDFs cannot be read: Debian's poppler-utils (pdftoppm, pdfinfo) is not installed " +
                    "(sudo apt-get install poppler-utils); images work, and PDFs are refused until it is.");
            }
            foreach (string address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            {
                await context.Output.WriteLineAsync($"webssl: serving {address} (open it in a browser; OpenAI API at {address}/v1)");
            }
            try
            {
                await app.WaitForShutdownAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
            await app.StopAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// An adapter trained with --tune llm|all carries its tuned LLM (llm.gguf) and encoder (encoder/): they are served
    /// unless others are named — and then a warning says so, because the identity check cannot tell a tuned model from
    /// the one it was tuned from.
    /// </summary>
    private static async Task UseTunedModelsAsync(CliContext context, AssistantOptions assistant, Dictionary<string, string?> overrides, string prefix)
    {
        if (string.IsNullOrWhiteSpace(assistant.AdapterPath))
        {
            return;
        }
        (string Name, string Key, string Configured, string Tuned)[] parts =
        [
            ("LLM", nameof(AssistantOptions.LlmPath), assistant.LlmPath, Path.Combine(assistant.AdapterPath, Trainer.TunedLlmFile)),
            ("encoder", nameof(AssistantOptions.EncoderPath), assistant.EncoderPath, Path.Combine(assistant.AdapterPath, Trainer.TunedEncoderFolder)),
        ];
        foreach (var (name, key, configured, tuned) in parts)
        {
            if (!File.Exists(tuned) && !Directory.Exists(tuned))
            {
                continue;
            }
            if (string.IsNullOrWhiteSpace(configured))
            {
                overrides[prefix + key] = tuned;
            }
            else if (Path.GetFullPath(configured) != Path.GetFullPath(tuned))
            {
                await context.Error.WriteLineAsync($"warning: the adapter was trained with its own tuned {name} ({tuned}), but {configured} is served; answers will be worse.");
            }
        }
    }

    private static string Percent(double score) => (score * 100).ToString("F0", System.Globalization.CultureInfo.InvariantCulture) + "%";
}
