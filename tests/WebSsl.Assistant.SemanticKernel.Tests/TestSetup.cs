using System.Runtime.CompilerServices;
using WebSsl.Language.Runtime;
using WebSsl.Vision.Runtime;

namespace WebSsl.Assistant.SemanticKernel.Tests;

internal static class TestSetup
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        TorchRuntime.EnsureInitialized(threads: 2);
        LlamaRuntime.EnsureInitialized();
    }
}
