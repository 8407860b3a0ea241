using WebSsl.Multimodal.Assistant;
using WebSsl.Vision.Images;

namespace WebSsl.Multimodal.Hosting;

/// <summary>Options for the DI registration: the assistant's own plus where prompts and stored images live.</summary>
public sealed record WebSslAssistantOptions
{
    public const string Section = "WebSslAssistant";

    public AssistantOptions Assistant { get; set; } = new();

    /// <summary>prompts/tasks folder; default: the one shipped with the application.</summary>
    public string? PromptsDirectory { get; set; }

    /// <summary>Where images referred to by id are kept; default: .webssl/images under the current folder.</summary>
    public string ImageStoreDirectory { get; set; } = Path.Combine(".webssl", "images");
}

/// <summary>
/// The lifetime of the models in an application: loads the assistant once, on first use (models take seconds to
/// minutes to load), and shares it with every surface (the server's hub and OpenAI API, the chat client, the Semantic
/// Kernel plugin), together with the one bound on images decoded at once. A singleton in dependency injection (the
/// Semantic Kernel connector registers it, with its task prompts).
/// </summary>
public sealed class AssistantHost : IAsyncDisposable
{
    private readonly WebSslAssistantOptions _options;
    private readonly Lazy<Task<VisionAssistant>> _assistant;

    /// <param name="options">What to load.</param>
    /// <param name="taskPrompts">Loads the task prompts from a folder (null: the ones shipped with the application).</param>
    public AssistantHost(WebSslAssistantOptions options, Func<string?, ITaskPrompts>? taskPrompts = null)
    {
        _options = options;
        Decodes = new ImageDecodeGate(options.Assistant.Decoding);
        _assistant = new(() => VisionAssistant.LoadAsync(options.Assistant, taskPrompts?.Invoke(options.PromptsDirectory), Decodes));
    }

    public AssistantOptions Options => _options.Assistant;

    /// <summary>Where images referred to by id are kept.</summary>
    public string ImageStoreDirectory => _options.ImageStoreDirectory;

    /// <summary>The one bound on images decoded at once in this process: the assistant's and the server's uploads.</summary>
    public ImageDecodeGate Decodes { get; }

    public bool IsLoaded => _assistant.IsValueCreated && _assistant.Value.IsCompletedSuccessfully;

    public Task<VisionAssistant> GetAsync(CancellationToken cancellationToken = default) => _assistant.Value.WaitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_assistant.IsValueCreated && _assistant.Value.IsCompletedSuccessfully)
        {
            await _assistant.Value.Result.DisposeAsync().ConfigureAwait(false);
        }
        Decodes.Dispose();
    }
}
