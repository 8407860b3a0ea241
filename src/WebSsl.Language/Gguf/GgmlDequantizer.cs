using System.Reflection;
using System.Runtime.InteropServices;
using WebSsl.Language.Runtime;

namespace WebSsl.Language.Gguf;

/// <summary>
/// Converts GGUF tensors to float32 with ggml's own routines (<c>ggml_get_type_traits(type)->to_float</c> from the
/// libggml-base that LLamaSharp ships), so the values are bit for bit those llama.cpp computes with. F32, F16 and BF16
/// are converted here directly (exact); every quantized type goes through ggml.
/// </summary>
public static unsafe partial class GgmlDequantizer
{
    private const string Library = "ggml-base";
    private static int _resolverInstalled;

    /// <summary>The tensor's values in memory order (fastest-varying dimension last), as float32.</summary>
    public static float[] ReadFloat32(GgufFile file, string name)
    {
        GgufTensorInfo info = file.TensorsByName.TryGetValue(name, out var t) ? t : throw new GgufException(file.Path, $"no tensor '{name}'.");
        var values = new float[info.ElementCount];
        ReadFloat32(file, name, values);
        return values;
    }

    /// <summary>Converts the tensor into <paramref name="destination"/> (e.g. a TorchSharp tensor's own memory: no second copy).</summary>
    public static void ReadFloat32(GgufFile file, string name, Span<float> destination)
    {
        GgufTensorInfo info = file.TensorsByName.TryGetValue(name, out var t) ? t : throw new GgufException(file.Path, $"no tensor '{name}'.");
        if (info.Type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16)
        {
            file.ReadTensorFloat32(name, destination);
            return;
        }
        if (destination.Length != info.ElementCount)
        {
            throw new ArgumentException($"tensor '{name}' has {info.ElementCount} elements, the destination {destination.Length}.");
        }
        EnsureResolver();
        nint traits = GetTypeTraits((int)info.Type);
        // struct ggml_type_traits { const char* type_name; int64 blck_size; int64 blck_size_interleave; size_t type_size;
        //                           bool is_quantized; ggml_to_float_t to_float; ggml_from_float_t from_float_ref; }
        long blockSize = *(long*)(traits + 8);
        long typeSize = *(long*)(traits + 24);
        nint toFloat = *(nint*)(traits + 40);
        if (toFloat == 0 || blockSize <= 0)
        {
            throw new GgufException(file.Path, $"tensor '{name}' has type {info.Type}, which ggml cannot convert to float.");
        }
        long elements = info.ElementCount;
        if (elements % blockSize != 0)
        {
            throw new GgufException(file.Path, $"tensor '{name}' has {elements} elements, not a whole number of {info.Type} blocks of {blockSize}.");
        }
        long bytes = elements / blockSize * typeSize;
        byte[] data = new byte[bytes];
        using (var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            stream.Position = file.DataStart + info.Offset;
            stream.ReadExactly(data);
        }
        var convert = (delegate* unmanaged[Cdecl]<void*, float*, long, void>)toFloat;
        fixed (byte* source = data)
        fixed (float* target = destination)
        {
            convert(source, target, elements);
        }
    }

    [LibraryImport(Library, EntryPoint = "ggml_get_type_traits")]
    private static partial nint GetTypeTraits(int type);

    /// <summary>
    /// A plain DllImport of ggml-base fails unless something loaded it already: resolve it to the same CPU-variant folder
    /// LLamaSharp loads its natives from (the one with llama.cpp already mapped, or the best the CPU supports).
    /// </summary>
    private static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref _resolverInstalled, 1) == 1)
        {
            return;
        }
        LlamaRuntime.EnsureInitialized();
        NativeLibrary.SetDllImportResolver(typeof(GgmlDequantizer).Assembly, (name, assembly, path) =>
        {
            if (name != Library)
            {
                return 0;
            }
            string root = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
            foreach (string variant in Variants())
            {
                string candidate = Path.Combine(root, variant, "libggml-base.so");
                if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out nint handle))
                {
                    return handle;
                }
            }
            return NativeLibrary.TryLoad("libggml-base.so", assembly, path, out nint fallback) ? fallback : 0;
        });
    }

    private static IEnumerable<string> Variants()
    {
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            yield return "avx512";
        }
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            yield return "avx2";
        }
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            yield return "avx";
        }
        yield return "noavx";
    }
}
