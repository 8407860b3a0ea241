using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.SemanticKernel;

/// <summary>One-call registration for .NET applications and Semantic Kernel.</summary>
public static class WebSslServiceCollectionExtensions
{
    /// <summary>
    /// Registers the assistant (loaded on first use), an <see cref="IChatClient"/>, Semantic Kernel's
    /// <see cref="IChatCompletionService"/> over it, the image store and <see cref="WebSslVisionPlugin"/>.
    /// </summary>
    public static IServiceCollection AddWebSslAssistant(this IServiceCollection services, Action<WebSslAssistantOptions> configure)
    {
        services.Configure(configure);
        return services.AddWebSslAssistantCore();
    }

    /// <summary>The same, with options bound from configuration (appsettings.json, environment: WebSslAssistant__Assistant__LlmPath ...).</summary>
    public static IServiceCollection AddWebSslAssistant(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WebSslAssistantOptions>(configuration.GetSection(WebSslAssistantOptions.Section));
        return services.AddWebSslAssistantCore();
    }

    /// <summary>Adds the assistant to a kernel: chat client, chat completion service, and the "vision" plugin.</summary>
    public static IKernelBuilder AddWebSslAssistant(this IKernelBuilder builder, Action<WebSslAssistantOptions> configure)
    {
        builder.Services.AddWebSslAssistant(configure);
        builder.Plugins.Services.AddSingleton(sp => KernelPluginFactory.CreateFromObject(sp.GetRequiredService<WebSslVisionPlugin>(), "vision"));
        return builder;
    }

    private static IServiceCollection AddWebSslAssistantCore(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new AssistantHost(sp.GetRequiredService<IOptions<WebSslAssistantOptions>>().Value, SemanticKernelTaskPrompts.Load));
        services.TryAddSingleton<IImageStore>(sp =>
        {
            WebSslAssistantOptions options = sp.GetRequiredService<IOptions<WebSslAssistantOptions>>().Value;
            return new FileImageStore(options.ImageStoreDirectory, options.Assistant.ImageLimits);
        });
        services.TryAddSingleton<WebSslChatClient>();
        services.TryAddSingleton<IChatClient>(sp => sp.GetRequiredService<WebSslChatClient>());
        services.TryAddSingleton<IChatCompletionService>(sp => sp.GetRequiredService<IChatClient>().AsChatCompletionService(sp));
        services.TryAddSingleton<WebSslVisionPlugin>();
        return services;
    }
}
