using System.Reflection;
using System.Runtime.InteropServices;
using WebSsl.Language.Runtime;

namespace WebSsl.Language.Gguf;

/// <summary>
/// Converts GGUF tensors to float32 with ggml's own routines (<c>ggml_get_type_traits(type)->to_float</c> from the
/// libggml-base that LLamaSharp ships), so the values are bit for bit those llama.cpp computes with. F32, F16 and BF16
/// are converted here directly (exact); every quantized type goes through ggml.
/// </summary>
public static unsafe class GgmlDequantizer
{
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
        var (blockSize, typeSize, toFloat, _) = GgmlNative.Traits(info.Type);
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
}
