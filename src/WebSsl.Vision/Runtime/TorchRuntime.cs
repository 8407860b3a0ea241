using System.Runtime.InteropServices;
using TorchSharp;

namespace WebSsl.Vision.Runtime;

/// <summary>
/// One place that prepares libtorch before its first use: OpenMP wait policy, thread count, device choice.
/// </summary>
public static partial class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool _initialized;

    /// <summary>
    /// Call before anything touches <see cref="torch"/>. Sets OMP_WAIT_POLICY=PASSIVE in the native environment unless the
    /// user set it: libgomp reads it once when libtorch loads, and its default spin-waiting makes 2-core runs 5-15x slower
    /// whenever anything else uses the CPU. <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not
    /// reach native getenv, hence setenv(3).
    /// </summary>
    public static void EnsureInitialized(int? threads = null)
    {
        lock (Gate)
        {
            if (!_initialized)
            {
                if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
                {
                    _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", overwrite: 0);
                }
                _initialized = true;
            }
            if (threads is > 0)
            {
                torch.set_num_threads(threads.Value);
            }
        }
    }

    /// <summary>Resolves "cpu", "cuda" or "cuda:N" to a device that exists, or explains why it does not.</summary>
    public static torch.Device ResolveDevice(string name)
    {
        EnsureInitialized();
        string normalized = name.Trim().ToLowerInvariant();
        if (normalized == "cpu")
        {
            return torch.CPU;
        }
        if (normalized == "cuda" || normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
            {
                throw new BadInputException(
                    $"device '{name}': CUDA is not available in this build or on this machine. " +
                    "Build with -p:WebSslAccelerator=cuda on a machine with an NVIDIA driver, or use --device cpu.");
            }
            return new torch.Device(normalized);
        }
        throw new BadInputException($"device '{name}': expected cpu, cuda or cuda:N.");
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
