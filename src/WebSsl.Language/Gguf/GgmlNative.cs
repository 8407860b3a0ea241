using System.Runtime.InteropServices;
using WebSsl.Language.Runtime;

namespace WebSsl.Language.Gguf;

/// <summary>
/// ggml's per-type traits from the libggml-base that LLamaSharp ships: block layout and the reference conversions
/// to and from float (<c>to_float</c>, <c>from_float_ref</c>), so this project converts exactly as llama.cpp does.
/// </summary>
internal static unsafe partial class GgmlNative
{
    private const string Library = "ggml-base";
    private static int _resolverInstalled;

    /// <summary>
    /// struct ggml_type_traits { const char* type_name; int64 blck_size; int64 blck_size_interleave; size_t type_size;
    /// bool is_quantized; ggml_to_float_t to_float; ggml_from_float_t from_float_ref; } (56 bytes).
    /// Types numbered 43 and above return garbage instead of an error, so only known types are asked for.
    /// </summary>
    public static (long BlockSize, long TypeSize, nint ToFloat, nint FromFloatReference) Traits(GgmlType type)
    {
        if (!Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "not a ggml type this project knows.");
        }
        EnsureResolver();
        nint traits = GetTypeTraits((int)type);
        return (*(long*)(traits + 8), *(long*)(traits + 24), *(nint*)(traits + 40), *(nint*)(traits + 48));
    }

    [LibraryImport(Library, EntryPoint = "ggml_get_type_traits")]
    private static partial nint GetTypeTraits(int type);

    /// <summary>
    /// A plain DllImport of ggml-base fails unless something loaded it already: resolve it to the CPU-variant folder
    /// LLamaSharp loads its natives from (the best the CPU supports).
    /// </summary>
    private static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref _resolverInstalled, 1) == 1)
        {
            return;
        }
        LlamaRuntime.EnsureInitialized();
        NativeLibrary.SetDllImportResolver(typeof(GgmlNative).Assembly, (name, assembly, path) =>
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

/// <summary>Quantizes float32 values into ggml blocks with ggml's own reference quantizer (from_float_ref).</summary>
public static unsafe class GgmlQuantizer
{
    public static byte[] Quantize(GgmlType type, ReadOnlySpan<float> values)
    {
        var (blockSize, typeSize, _, fromFloat) = GgmlNative.Traits(type);
        if (fromFloat == 0 || blockSize <= 1)
        {
            throw new ArgumentException($"ggml has no reference quantizer for {type}.");
        }
        if (values.Length % blockSize != 0)
        {
            throw new ArgumentException($"{type} quantizes blocks of {blockSize} values; {values.Length} is not a multiple.");
        }
        var blocks = new byte[values.Length / blockSize * typeSize];
        var quantize = (delegate* unmanaged[Cdecl]<float*, void*, long, void>)fromFloat;
        fixed (float* source = values)
        fixed (byte* target = blocks)
        {
            quantize(source, target, values.Length);
        }
        return blocks;
    }
}
