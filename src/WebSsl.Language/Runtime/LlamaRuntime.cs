using System.Runtime.InteropServices;
using LLama.Native;

namespace WebSsl.Language.Runtime;

/// <summary>
/// One-time setup of llama.cpp's native library: its log goes to a small ring buffer (so load failures can quote
/// llama.cpp's own reason) and, when WEBSSL_LLAMA_LOG=1, to stderr. Must run before anything loads the library.
/// ggml's CPU backend uses OpenMP (the system libgomp): OMP_WAIT_POLICY=PASSIVE is set in the native environment
/// unless the user chose a policy, because spinning worker threads slow a 2-core machine several-fold whenever anything
/// else runs (the vision encoder, another request); setenv(3) because .NET's environment does not reach native getenv.
/// </summary>
public static partial class LlamaRuntime
{
    private const int Kept = 64;
    private static readonly Lock Gate = new();
    private static readonly Queue<string> Recent = new();
    private static bool _initialized;

    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (_initialized)
            {
                return;
            }
            _initialized = true;
        }
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", overwrite: 0);
        }
        bool echo = Environment.GetEnvironmentVariable("WEBSSL_LLAMA_LOG") == "1";
        NativeLibraryConfig.All.WithLogCallback((level, message) =>
        {
            if (level is LLamaLogLevel.Warning or LLamaLogLevel.Error)
            {
                lock (Gate)
                {
                    Recent.Enqueue(message.TrimEnd());
                    while (Recent.Count > Kept)
                    {
                        Recent.Dequeue();
                    }
                }
            }
            if (echo)
            {
                Console.Error.Write(message);
            }
        });
    }

    /// <summary>The last warnings and errors llama.cpp logged (most recent last).</summary>
    public static IReadOnlyList<string> RecentProblems(int count = 4)
    {
        lock (Gate)
        {
            return Recent.Where(m => m.Length > 0).TakeLast(count).ToList();
        }
    }

    /// <summary>Forgets logged problems (before an operation whose failure should quote only its own).</summary>
    public static void ClearProblems()
    {
        lock (Gate)
        {
            Recent.Clear();
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
