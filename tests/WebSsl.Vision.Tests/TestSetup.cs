using System.Runtime.CompilerServices;
using WebSsl.Vision.Runtime;

namespace WebSsl.Vision.Tests;

internal static class TestSetup
{
    /// <summary>libtorch must see OMP_WAIT_POLICY before it loads; tests run one collection at a time on 2 threads.</summary>
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.EnsureInitialized(threads: 2);
}

