using LLama.Native;

namespace WebSsl.Language.Runtime;

/// <summary>
/// One-time setup of llama.cpp's native library: its log goes to a small ring buffer (so load failures can quote
/// llama.cpp's own reason) and, when WEBSSL_LLAMA_LOG=1, to stderr. Must run before anything loads the library.
/// </summary>
public static class LlamaRuntime
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
}
