using WebSsl.Assistant.Cli;
using WebSsl.Vision.Runtime;

// libtorch reads its OpenMP settings once, when it loads: prepare them before any command touches it.
TorchRuntime.EnsureInitialized();
WebSsl.Language.Runtime.LlamaRuntime.EnsureInitialized();
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
return await WebSslCli.RunAsync(args, Console.Out, Console.Error, cancellation.Token);
