using System.Runtime.CompilerServices;
using WebSsl.Vision.Runtime;

namespace WebSsl.Vision.Tests;

internal static class TestSetup
{
    /// <summary>libtorch must see OMP_WAIT_POLICY before it loads; tests run one collection at a time on 2 threads.</summary>
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.EnsureInitialized(threads: 2);
}

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "webssl-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Sub(string name)
    {
        string path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // a test that failed may still hold a file open; the OS temp cleaner gets it
        }
    }
}
