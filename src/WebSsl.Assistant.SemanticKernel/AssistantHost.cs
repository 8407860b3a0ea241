using Microsoft.Extensions.Options;
using WebSsl.Multimodal.Assistant;
using WebSsl.Vision.Images;

namespace WebSsl.Assistant.SemanticKernel;

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
/// Loads the assistant once, on first use (models take seconds to minutes to load), and shares it. Registered as a
/// singleton by <see cref="WebSslServiceCollectionExtensions.AddWebSslAssistant(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{WebSslAssistantOptions})"/>.
/// </summary>
public sealed class AssistantHost : IAsyncDisposable
{
    private readonly IOptions<WebSslAssistantOptions> _options;
    private readonly Lazy<Task<VisionAssistant>> _assistant;

    public AssistantHost(IOptions<WebSslAssistantOptions> options)
    {
        _options = options;
        Decodes = new ImageDecodeGate(options.Value.Assistant.Decoding);
        _assistant = new(() => VisionAssistant.LoadAsync(options.Value.Assistant, SemanticKernelTaskPrompts.Load(options.Value.PromptsDirectory), Decodes));
    }

    public AssistantOptions Options => _options.Value.Assistant;

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
