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
        Option<int?> threads = SharedOptions.Threads();
        Option<string> device = SharedOptions.Device();
        var command = new Command("serve", "Run the assistant server: the browser app, the SignalR hub, the image and conversation API and an OpenAI-compatible API.")
        {
            encoder, llm, adapter, urls, apiKey, dataDir, maxSessions, maxQueue, context_, threads, device,
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

            await using WebApplication app = AssistantServer.Build([], overrides);
            AssistantOptions assistant = app.Services.GetRequiredService<IOptions<WebSslAssistantOptions>>().Value.Assistant;
            string[] missing = new[] { ("--encoder", assistant.EncoderPath), ("--llm", assistant.LlmPath), ("--adapter", assistant.AdapterPath) }
                .Where(p => string.IsNullOrWhiteSpace(p.Item2)).Select(p => p.Item1).ToArray();
            if (missing.Length > 0)
            {
                throw new ArgumentException($"serve needs {string.Join(", ", missing)} (or WebSslAssistant:Assistant:EncoderPath/LlmPath/AdapterPath in appsettings.json " +
                    "or the environment). `webssl quickstart` makes a tiny set to try.");
            }
            await app.StartAsync(cancellationToken);
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
}
