using System.Runtime.CompilerServices;
using WebSsl.Vision.Runtime;

namespace WebSsl.HuggingFace.Tests;

internal static class TestSetup
{
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.EnsureInitialized(threads: 1);
}
