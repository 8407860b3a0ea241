using System.Text;

namespace WebSsl.Language.Gguf;

/// <summary>An array metadata value: its element type and the values (string[], float[], int[], ... by element type).</summary>
public sealed record GgufArray(GgufValueType ElementType, Array Values);

/// <summary>One tensor's entry: dimensions fastest-varying first (ggml's ne[]), type, and offset from the data start.</summary>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, long Offset)
{
    public long ElementCount => Dimensions.Aggregate(1L, (a, b) => a * b);

    /// <summary>Stored bytes, when the type's block layout is known.</summary>
    public long? ByteSize => GgmlTypes.ByteSize(Type, ElementCount);
}

/// <summary>
/// Reader for GGUF v2/v3 (llama.cpp's model format). Opening parses and validates the whole header against the file size:
/// string and array lengths, tensor types, alignment, and that every tensor's data lies inside the file. A file that passes
/// can be handed to llama.cpp without risking its asserts on malformed input.
/// </summary>
public sealed class GgufFile
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    public const int DefaultAlignment = 32;

    private GgufFile(string path, uint version, Dictionary<string, object> metadata, List<GgufTensorInfo> tensors, long dataStart, int alignment)
    {
        Path = path;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        TensorsByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        DataStart = dataStart;
        Alignment = alignment;
    }

    public string Path { get; }

    public uint Version { get; }

    /// <summary>Metadata in file order; values are string, bool, numeric primitives, or <see cref="GgufArray"/>.</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    public IReadOnlyDictionary<string, GgufTensorInfo> TensorsByName { get; }

    public long DataStart { get; }

    public int Alignment { get; }

    /// <summary><c>general.architecture</c> (e.g. llama, qwen2).</summary>
    public string Architecture => GetString("general.architecture");

    public static GgufFile Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new GgufException(path, "file not found.");
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var reader = new HeaderReader(stream, path);
        uint magic = reader.UInt32("magic");
        if (magic != Magic)
        {
            throw new GgufException(path, $"not a GGUF file (magic {magic:X8}, expected 46554747 \"GGUF\").");
        }
        uint version = reader.UInt32("version");
        if (version is < 2 or > 3)
        {
            throw new GgufException(path, $"GGUF version {version} is not supported (2 or 3).");
        }
        long tensorCount = reader.Count("tensor count", 16);
        long metadataCount = reader.Count("metadata count", 12);

        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (long i = 0; i < metadataCount; i++)
        {
            string key = reader.String($"metadata key #{i}");
            metadata[key] = reader.Value(reader.ValueType(key), key);
        }
        int alignment = DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out object? alignValue))
        {
            alignment = alignValue is uint a && a > 0 && (a & (a - 1)) == 0
                ? (int)a
                : throw new GgufException(path, $"general.alignment {alignValue} must be a power-of-two u32.");
        }

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        for (long i = 0; i < tensorCount; i++)
        {
            string name = reader.String($"tensor name #{i}");
            uint dims = reader.UInt32($"{name} n_dims");
            if (dims is 0 or > 4)
            {
                throw new GgufException(path, $"tensor '{name}' has {dims} dimensions (1 to 4 allowed).");
            }
            var shape = new long[dims];
            for (int d = 0; d < dims; d++)
            {
                ulong n = reader.UInt64($"{name} ne[{d}]");
                shape[d] = n is > 0 and < (1UL << 40) ? (long)n : throw new GgufException(path, $"tensor '{name}' dimension {d} is {n}.");
            }
            uint type = reader.UInt32($"{name} type");
            if (!Enum.IsDefined(typeof(GgmlType), type))
            {
                throw new GgufException(path, $"tensor '{name}' has unknown ggml type {type}.");
            }
            ulong offset = reader.UInt64($"{name} offset");
            if (offset % (ulong)alignment != 0)
            {
                throw new GgufException(path, $"tensor '{name}' offset {offset} is not aligned to {alignment}.");
            }
            tensors.Add(new GgufTensorInfo(name, shape, (GgmlType)type, (long)offset));
        }
        long dataStart = (stream.Position + alignment - 1) / alignment * alignment;
        long dataLength = stream.Length - dataStart;
        foreach (GgufTensorInfo tensor in tensors)
        {
            long end = tensor.Offset + (tensor.ByteSize ?? 0);
            if (tensor.Offset > dataLength || end > dataLength)
            {
                throw new GgufException(path,
                    $"tensor '{tensor.Name}' ({tensor.Type} [{string.Join(", ", tensor.Dimensions)}]) ends at byte {end} of the data section, " +
                    $"past its end ({dataLength} bytes): the file is truncated.");
            }
        }
        if (tensors.Select(t => t.Name).Distinct(StringComparer.Ordinal).Count() != tensors.Count)
        {
            throw new GgufException(path, "has two tensors with the same name.");
        }
        return new GgufFile(path, version, metadata, tensors, dataStart, alignment);
    }

    public bool Has(string key) => Metadata.ContainsKey(key);

    public string GetString(string key) => Get<string>(key);

    public uint GetUInt32(string key) => Get<uint>(key);

    public float GetFloat32(string key) => Get<float>(key);

    public T Get<T>(string key) => Metadata.TryGetValue(key, out object? value)
        ? value is T typed ? typed : throw new GgufException(Path, $"metadata '{key}' is {Describe(value)}, expected {typeof(T).Name}.")
        : throw new GgufException(Path, $"metadata '{key}' is missing.");

    /// <summary>An array value as a typed array (string[], float[], int[] ...).</summary>
    public T[] GetArray<T>(string key)
    {
        object value = Get<GgufArray>(key).Values;
        return value as T[] ?? throw new GgufException(Path, $"metadata '{key}' is {Describe(Metadata[key])}, expected an array of {typeof(T).Name}.");
    }

    /// <summary>The raw stored bytes of a tensor.</summary>
    public byte[] ReadTensorBytes(string name)
    {
        GgufTensorInfo info = TensorsByName.TryGetValue(name, out var t) ? t : throw new GgufException(Path, $"no tensor '{name}'.");
        long size = info.ByteSize ?? throw new GgufException(Path, $"tensor '{name}' has type {info.Type}, whose layout this reader does not know.");
        var bytes = new byte[size];
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        stream.Position = DataStart + info.Offset;
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>A float tensor (F32, F16 or BF16) as float32 values, fastest-varying dimension last in memory order.</summary>
    public float[] ReadTensorFloat32(string name)
    {
        GgufTensorInfo info = TensorsByName.TryGetValue(name, out var t) ? t : throw new GgufException(Path, $"no tensor '{name}'.");
        var values = new float[info.ElementCount];
        ReadTensorFloat32(name, values);
        return values;
    }

    /// <summary>Converts a float tensor (F32, F16 or BF16) into <paramref name="destination"/> (exactly its element count).</summary>
    public void ReadTensorFloat32(string name, Span<float> destination)
    {
        GgufTensorInfo info = TensorsByName.TryGetValue(name, out var t) ? t : throw new GgufException(Path, $"no tensor '{name}'.");
        if (destination.Length != info.ElementCount)
        {
            throw new BadInputException($"tensor '{name}' has {info.ElementCount} elements, the destination {destination.Length}.");
        }
        if (info.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
        {
            throw new GgufException(Path, $"tensor '{name}' is {info.Type}; only F32, F16 and BF16 are converted here (quantized types go through ggml).");
        }
        byte[] bytes = ReadTensorBytes(name);
        switch (info.Type)
        {
            case GgmlType.F32:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination);
                break;
            case GgmlType.F16:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(bytes, 2 * i));
                }
                break;
            default:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(bytes, 2 * i) << 16);
                }
                break;
        }
    }

    private static string Describe(object value) => value switch
    {
        GgufArray a => $"an array of {a.ElementType}",
        string => "a string",
        _ => $"a {value.GetType().Name} ({value})",
    };

    /// <summary>Bounds-checked reads of the header; every length is checked against what is left in the file.</summary>
    private sealed class HeaderReader(FileStream stream, string path)
    {
        private readonly BinaryReader _reader = new(stream, Encoding.UTF8, leaveOpen: true);

        private long Remaining => stream.Length - stream.Position;

        private void Need(long bytes, string what)
        {
            if (bytes > Remaining)
            {
                throw new GgufException(path, $"truncated: {what} needs {bytes} bytes at offset {stream.Position}, only {Remaining} left.");
            }
        }

        public uint UInt32(string what)
        {
            Need(4, what);
            return _reader.ReadUInt32();
        }

        public ulong UInt64(string what)
        {
            Need(8, what);
            return _reader.ReadUInt64();
        }

        /// <summary>A count that cannot exceed what the rest of the file could hold at <paramref name="minBytesEach"/> bytes each.</summary>
        public long Count(string what, int minBytesEach)
        {
            ulong count = UInt64(what);
            if (count > (ulong)(Remaining / minBytesEach))
            {
                throw new GgufException(path, $"{what} {count} cannot fit in the {Remaining} bytes left: the header is corrupt or truncated.");
            }
            return (long)count;
        }

        public string String(string what)
        {
            ulong length = UInt64(what + " length");
            if (length > (ulong)Remaining)
            {
                throw new GgufException(path, $"truncated: {what} claims {length} bytes at offset {stream.Position}, only {Remaining} left.");
            }
            return Encoding.UTF8.GetString(_reader.ReadBytes((int)length));
        }

        public GgufValueType ValueType(string key)
        {
            uint type = UInt32(key + " type");
            return Enum.IsDefined(typeof(GgufValueType), type)
                ? (GgufValueType)type
                : throw new GgufException(path, $"metadata '{key}' has unknown value type {type}.");
        }

        public object Value(GgufValueType type, string key)
        {
            switch (type)
            {
                case GgufValueType.String:
                    return String(key);
                case GgufValueType.Array:
                    GgufValueType element = ValueType(key + "[]");
                    if (element == GgufValueType.Array)
                    {
                        throw new GgufException(path, $"metadata '{key}' is an array of arrays, which no model uses.");
                    }
                    long count = Count($"metadata '{key}' element count", element == GgufValueType.String ? 8 : Size(element));
                    return new GgufArray(element, ReadArray(element, count, key));
                default:
                    Need(Size(type), $"metadata '{key}'");
                    return Scalar(type);
            }
        }

        private Array ReadArray(GgufValueType element, long count, string key)
        {
            switch (element)
            {
                case GgufValueType.String:
                    var strings = new string[count];
                    for (long i = 0; i < count; i++)
                    {
                        strings[i] = String($"{key}[{i}]");
                    }
                    return strings;
                case GgufValueType.Float32:
                    return Fill(count, () => _reader.ReadSingle());
                case GgufValueType.Int32:
                    return Fill(count, () => _reader.ReadInt32());
                case GgufValueType.UInt32:
                    return Fill(count, () => _reader.ReadUInt32());
                default:
                    var values = new object[count];
                    for (long i = 0; i < count; i++)
                    {
                        values[i] = Scalar(element);
                    }
                    return values;
            }
        }

        private static T[] Fill<T>(long count, Func<T> read)
        {
            var values = new T[count];
            for (long i = 0; i < count; i++)
            {
                values[i] = read();
            }
            return values;
        }

        private object Scalar(GgufValueType type) => type switch
        {
            GgufValueType.UInt8 => _reader.ReadByte(),
            GgufValueType.Int8 => _reader.ReadSByte(),
            GgufValueType.UInt16 => _reader.ReadUInt16(),
            GgufValueType.Int16 => _reader.ReadInt16(),
            GgufValueType.UInt32 => _reader.ReadUInt32(),
            GgufValueType.Int32 => _reader.ReadInt32(),
            GgufValueType.Float32 => _reader.ReadSingle(),
            GgufValueType.Bool => _reader.ReadByte() != 0,
            GgufValueType.UInt64 => _reader.ReadUInt64(),
            GgufValueType.Int64 => _reader.ReadInt64(),
            GgufValueType.Float64 => _reader.ReadDouble(),
            _ => throw new GgufException(path, $"value type {type} is not a scalar."),
        };

        private static int Size(GgufValueType type) => type switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            _ => 8,
        };
    }
}
