using System.Runtime.CompilerServices;
using WebSsl.Vision.Runtime;

namespace WebSsl.Assistant.Cli.Tests;

/// <summary>Runs <c>webssl</c> in-process, as a user would type it, capturing what it prints.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.EnsureInitialized(threads: 2);

    public static async Task<CliRun> Webssl(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await WebSslCli.RunAsync(args, output, error);
        return new CliRun(code, output.ToString(), error.ToString());
    }
}

