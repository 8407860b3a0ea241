using Microsoft.Extensions.Hosting;
using WebSsl.Assistant.Server.Conversations;

namespace WebSsl.Assistant.Server.Hosting;

/// <summary>Creates or migrates the conversations database before the server accepts requests; a failure stops the start.</summary>
public sealed class DatabaseInitializer(ConversationStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
