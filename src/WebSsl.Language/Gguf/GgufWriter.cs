using System.Text;

namespace WebSsl.Language.Gguf;

/// <summary>
/// Writes GGUF v3 files that llama.cpp loads: typed metadata (llama.cpp checks types strictly, e.g. u32 where u32 is
/// expected) and F32/F16/BF16/Q8_0 tensors (any other tabulated ggml type through ggml's own quantizer), aligned to
/// <c>general.alignment</c>. Tensor data is produced on demand at write time,
/// so a model larger than memory can be written; the file appears under its name only when complete.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValueType Type, object Value)> _metadata = [];
    private readonly List<(string Name, long[] Dimensions, GgmlType Type, Func<ReadOnlyMemory<float>> Data)> _tensors = [];

    public int Alignment { get; init; } = GgufFile.DefaultAlignment;

    public GgufWriter Add(string key, string value) => Put(key, GgufValueType.String, value);

    public GgufWriter Add(string key, uint value) => Put(key, GgufValueType.UInt32, value);

    public GgufWriter Add(string key, int value) => Put(key, GgufValueType.Int32, value);

    public GgufWriter Add(string key, float value) => Put(key, GgufValueType.Float32, value);

    public GgufWriter Add(string key, bool value) => Put(key, GgufValueType.Bool, value);

    public GgufWriter Add(string key, ulong value) => Put(key, GgufValueType.UInt64, value);

    public GgufWriter Add(string key, string[] values) => Put(key, GgufValueType.Array, new GgufArray(GgufValueType.String, values));

    public GgufWriter Add(string key, float[] values) => Put(key, GgufValueType.Array, new GgufArray(GgufValueType.Float32, values));

    public GgufWriter Add(string key, int[] values) => Put(key, GgufValueType.Array, new GgufArray(GgufValueType.Int32, values));

    /// <summary>
    /// Copies every metadata entry of <paramref name="source"/> (except those <paramref name="skip"/> names) with its
    /// exact GGUF type, so a model rewritten with new weights keeps its tokenizer, template and hyperparameters bit for bit.
    /// </summary>
    public GgufWriter CopyMetadata(GgufFile source, Func<string, bool>? skip = null)
    {
        foreach (var (key, value) in source.Metadata)
        {
            if (skip?.Invoke(key) == true || key == "general.alignment")
            {
                continue;
            }
            Put(key, TypeOf(value), value);
        }
        return this;
    }

    private static GgufValueType TypeOf(object value) => value switch
    {
        byte => GgufValueType.UInt8,
        sbyte => GgufValueType.Int8,
        ushort => GgufValueType.UInt16,
        short => GgufValueType.Int16,
        uint => GgufValueType.UInt32,
        int => GgufValueType.Int32,
        float => GgufValueType.Float32,
        bool => GgufValueType.Bool,
        string => GgufValueType.String,
        GgufArray => GgufValueType.Array,
        ulong => GgufValueType.UInt64,
        long => GgufValueType.Int64,
        double => GgufValueType.Float64,
        _ => throw new ArgumentException($"metadata value of type {value.GetType().Name} has no GGUF type."),
    };

    /// <summary>Removes a metadata key (tests use this to produce files that break one rule).</summary>
    public GgufWriter Remove(string key)
    {
        _metadata.RemoveAll(m => m.Key == key);
        return this;
    }

    /// <summary>
    /// Adds a tensor. <paramref name="dimensions"/> are ggml's ne[], fastest-varying first: a PyTorch weight [out, in] is
    /// written as [in, out]. <paramref name="data"/> holds the values in memory order and is called once, at write time.
    /// </summary>
    public GgufWriter AddTensor(string name, long[] dimensions, GgmlType type, Func<ReadOnlyMemory<float>> data)
    {
        if (GgmlTypes.Layout(type) is not var (block, _))
        {
            throw new ArgumentException($"tensor '{name}': this writer does not know the layout of {type}.");
        }
        if (dimensions[0] % block != 0)
        {
            throw new ArgumentException($"tensor '{name}': {type} needs rows of a multiple of {block} values, not {dimensions[0]}.");
        }
        _tensors.Add((name, dimensions, type, data));
        return this;
    }

    public GgufWriter AddTensor(string name, long[] dimensions, GgmlType type, float[] data) => AddTensor(name, dimensions, type, () => data);

    public void Write(string path)
    {
        string temporary = path + ".partial";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(GgufFile.Magic);
                writer.Write(3u);
                writer.Write((ulong)_tensors.Count);
                var metadata = _metadata.ToList();
                if (Alignment != GgufFile.DefaultAlignment && metadata.All(m => m.Key != "general.alignment"))
                {
                    metadata.Add(("general.alignment", GgufValueType.UInt32, (uint)Alignment));
                }
                writer.Write((ulong)metadata.Count);
                foreach (var (key, type, value) in metadata)
                {
                    WriteString(writer, key);
                    writer.Write((uint)type);
                    WriteValue(writer, type, value);
                }
                long offset = 0;
                foreach (var (name, dims, type, _) in _tensors)
                {
                    WriteString(writer, name);
                    writer.Write((uint)dims.Length);
                    foreach (long d in dims)
                    {
                        writer.Write((ulong)d);
                    }
                    writer.Write((uint)type);
                    writer.Write((ulong)offset);
                    offset = Align(offset + GgmlTypes.ByteSize(type, dims.Aggregate(1L, (a, b) => a * b))!.Value);
                }
                Pad(writer);
                foreach (var (name, dims, type, data) in _tensors)
                {
                    ReadOnlyMemory<float> values = data();
                    long expected = dims.Aggregate(1L, (a, b) => a * b);
                    if (values.Length != expected)
                    {
                        throw new ArgumentException($"tensor '{name}' got {values.Length} values for dimensions [{string.Join(", ", dims)}] ({expected}).");
                    }
                    WriteData(writer, type, values.Span);
                    Pad(writer);
                }
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private GgufWriter Put(string key, GgufValueType type, object value)
    {
        _metadata.RemoveAll(m => m.Key == key);
        _metadata.Add((key, type, value));
        return this;
    }

    private long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    private void Pad(BinaryWriter writer)
    {
        long position = writer.BaseStream.Position;
        long padded = Align(position);
        for (long i = position; i < padded; i++)
        {
            writer.Write((byte)0);
        }
    }

    /// <summary>
    /// ggml's reference Q8_0 quantization (quantize_row_q8_0_ref): blocks of 32 values stored as an fp16 scale
    /// d = max|x| / 127 and 32 signed bytes round(x / d). Written here because a realistic benchmark model should be
    /// quantized the way users' models are; no .NET library writes ggml blocks.
    /// </summary>
    private static void WriteQ8_0(BinaryWriter writer, ReadOnlySpan<float> values)
    {
        Span<byte> block = stackalloc byte[34];
        for (int start = 0; start < values.Length; start += 32)
        {
            ReadOnlySpan<float> x = values.Slice(start, 32);
            float max = 0;
            foreach (float v in x)
            {
                max = Math.Max(max, Math.Abs(v));
            }
            float d = max / 127f;
            float inverse = d != 0 ? 1f / d : 0f;
            BitConverter.TryWriteBytes(block, BitConverter.HalfToUInt16Bits((Half)d));
            for (int j = 0; j < 32; j++)
            {
                block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * inverse, MidpointRounding.AwayFromZero);
            }
            writer.Write(block);
        }
    }

    private static void WriteString(BinaryWriter writer, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private static void WriteValue(BinaryWriter writer, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.String: WriteString(writer, (string)value); break;
            case GgufValueType.UInt32: writer.Write((uint)value); break;
            case GgufValueType.Int32: writer.Write((int)value); break;
            case GgufValueType.Float32: writer.Write((float)value); break;
            case GgufValueType.Bool: writer.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.UInt64: writer.Write((ulong)value); break;
            case GgufValueType.UInt8: writer.Write((byte)value); break;
            case GgufValueType.Int8: writer.Write((sbyte)value); break;
            case GgufValueType.UInt16: writer.Write((ushort)value); break;
            case GgufValueType.Int16: writer.Write((short)value); break;
            case GgufValueType.Int64: writer.Write((long)value); break;
            case GgufValueType.Float64: writer.Write((double)value); break;
            case GgufValueType.Array:
                var array = (GgufArray)value;
                writer.Write((uint)array.ElementType);
                writer.Write((ulong)array.Values.Length);
                foreach (object element in array.Values)
                {
                    WriteValue(writer, array.ElementType, element);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "not written by this writer");
        }
    }

    private static void WriteData(BinaryWriter writer, GgmlType type, ReadOnlySpan<float> values)
    {
        if (type == GgmlType.Q8_0)
        {
            WriteQ8_0(writer, values);
            return;
        }
        if (type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
        {
            // Other quantized types (Q4_0, Q4_K, Q5_K, Q6_K ...) through ggml's own reference quantizer.
            writer.Write(GgmlQuantizer.Quantize(type, values));
            return;
        }
        const int Chunk = 1 << 16;
        byte[] buffer = new byte[Chunk * 4];
        for (int start = 0; start < values.Length; start += Chunk)
        {
            ReadOnlySpan<float> part = values.Slice(start, Math.Min(Chunk, values.Length - start));
            int bytes;
            switch (type)
            {
                case GgmlType.F32:
                    bytes = part.Length * 4;
                    System.Runtime.InteropServices.MemoryMarshal.AsBytes(part).CopyTo(buffer);
                    break;
                case GgmlType.F16:
                    bytes = part.Length * 2;
                    for (int i = 0; i < part.Length; i++)
                    {
                        BitConverter.TryWriteBytes(buffer.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)part[i]));
                    }
                    break;
                default: // BF16, round to nearest even
                    bytes = part.Length * 2;
                    for (int i = 0; i < part.Length; i++)
                    {
                        uint bits = BitConverter.SingleToUInt32Bits(part[i]);
                        uint rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
                        BitConverter.TryWriteBytes(buffer.AsSpan(2 * i), (ushort)rounded);
                    }
                    break;
            }
            writer.Write(buffer, 0, bytes);
        }
    }
}
