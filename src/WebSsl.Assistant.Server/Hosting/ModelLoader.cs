using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebSsl.Assistant.SemanticKernel;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.Server.Hosting;

public enum ModelState
{
    Loading,
    Ready,
    Failed,
}

/// <summary>
/// Loads the encoder, adapter and LLM in the background as the server starts, so that the page, uploads and
/// conversations work at once and /health says 503 until the models are ready (200 after, 503 with the reason if the
/// load failed: a wrong path, a truncated checkpoint, an adapter trained for another LLM).
/// </summary>
public sealed partial class ModelLoader(AssistantHost host, ILogger<ModelLoader> logger) : BackgroundService
{
    private volatile string? _error;

    public ModelState State => host.IsLoaded ? ModelState.Ready : _error is null ? ModelState.Loading : ModelState.Failed;

    /// <summary>
    /// Why loading failed (null while loading or once loaded), as clients see it: the reason and the file's name, with
    /// the folders of every path cut to "…/" (they tell a stranger the machine's layout and user names). The server's
    /// log has the whole message.
    /// </summary>
    public string? Error => _error is { } error ? Directories().Replace(error, "…/") : null;

    /// <summary>How long the load took, once it finished.</summary>
    public TimeSpan? LoadTime { get; private set; }

    /// <summary>The assistant when loaded; otherwise null with the reason to give to clients.</summary>
    public (VisionAssistant? Assistant, string Code, string Message) TryGet() => State switch
    {
        ModelState.Ready => (host.GetAsync().Result, "", ""),
        ModelState.Failed => (null, "model-unavailable", $"the models failed to load: {Error}"),
        _ => (null, "loading", "the models are still loading; try again when GET /health answers 200."),
    };

    /// <summary>The folder part of an absolute path (Unix or Windows): one or more "/name" followed by a separator.</summary>
    [GeneratedRegex(@"(?:\b[A-Za-z]:)?(?:[\\/][^\\/\s'""`:;,()]+)+[\\/]")]
    private static partial Regex Directories();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var clock = Stopwatch.StartNew();
        logger.LogInformation("Loading encoder {Encoder}, LLM {Llm} and adapter {Adapter}", host.Options.EncoderPath, host.Options.LlmPath, host.Options.AdapterPath);
        try
        {
            await Task.Yield();
            VisionAssistant assistant = await host.GetAsync(stoppingToken);
            LoadTime = clock.Elapsed;
            logger.LogInformation("Ready: {Description} (loaded in {Seconds:F1} s)", assistant.Description, clock.Elapsed.TotalSeconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _error = e.Message;
            logger.LogError("The models failed to load: {Message}", e.Message);
        }
    }
}
