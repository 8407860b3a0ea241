using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using TorchSharp;

namespace WebSsl.Vision.Checkpoints;

/// <summary>Where one tensor lives inside a safetensors file (offsets relative to the start of the data section).</summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);

    public long ByteLength => End - Begin;
}

/// <summary>
/// Reader for the safetensors format: 8-byte little-endian header length, a JSON header, then raw little-endian data.
/// TorchSharp 0.107 has no safetensors API, and TorchSharp.PyBridge's reader peaks at 2x the weights in memory and checks
/// shapes loosely; this reader validates the whole header against the file size up front and streams each tensor
/// straight into its destination.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Headers larger than this are refused (the format's reference implementation uses the same bound).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly SafeFileHandle _handle;
    private readonly long _dataStart;

    private SafetensorsFile(string path, SafeFileHandle handle, long dataStart, Dictionary<string, SafetensorsTensorInfo> tensors,
        Dictionary<string, string> metadata)
    {
        Path = path;
        _handle = handle;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The optional <c>__metadata__</c> string map.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates the header: every tensor's dtype, shape and byte range must be consistent and inside the file.</summary>
    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new CheckpointException(path, null, "file not found.");
        }
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            long fileLength = RandomAccess.GetLength(handle);
            if (fileLength < 8)
            {
                throw new CheckpointException(path, null, $"truncated: {fileLength} bytes, a safetensors file starts with an 8-byte header length.");
            }
            Span<byte> lengthBytes = stackalloc byte[8];
            ReadExactly(handle, lengthBytes, 0, path);
            long headerLength = BitConverter.ToInt64(lengthBytes);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes)
            {
                throw new CheckpointException(path, null, $"header length {headerLength} is not plausible (1..{MaxHeaderBytes} bytes); not a safetensors file?");
            }
            if (8 + headerLength > fileLength)
            {
                throw new CheckpointException(path, null, $"truncated: header claims {headerLength} bytes but the file has only {fileLength - 8} after the length field.");
            }
            byte[] header = new byte[headerLength];
            ReadExactly(handle, header, 8, path);
            long dataStart = 8 + headerLength;
            var (tensors, metadata) = ParseHeader(path, header, fileLength - dataStart);
            return new SafetensorsFile(path, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, SafetensorsTensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, null, $"header is not valid JSON ({e.Message}).", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointException(path, null, "header must be a JSON object of tensor entries.");
            }
            var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (JsonProperty m in property.Value.EnumerateObject())
                        {
                            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                        }
                    }
                    continue;
                }
                tensors[property.Name] = ParseEntry(path, property.Name, property.Value, dataLength);
            }
            return (tensors, metadata);
        }
    }

    private static SafetensorsTensorInfo ParseEntry(string path, string name, JsonElement entry, long dataLength)
    {
        if (entry.ValueKind != JsonValueKind.Object
            || !entry.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !entry.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !entry.TryGetProperty("data_offsets", out JsonElement offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
        {
            throw new CheckpointException(path, name, "header entry must have \"dtype\" (string), \"shape\" (array) and \"data_offsets\" ([begin, end]).");
        }
        SafetensorsDType dtype = SafetensorsDTypes.TryParse(dtypeElement.GetString()!, out string? reason)
            ?? throw new CheckpointException(path, name, reason!);
        long[] shape = new long[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (JsonElement dim in shapeElement.EnumerateArray())
        {
            if (!dim.TryGetInt64(out long d) || d < 0)
            {
                throw new CheckpointException(path, name, $"shape {shapeElement.GetRawText()} has a dimension that is not a non-negative integer.");
            }
            shape[i++] = d;
        }
        if (!offsetsElement[0].TryGetInt64(out long begin) || !offsetsElement[1].TryGetInt64(out long end) || begin < 0 || end < begin)
        {
            throw new CheckpointException(path, name, $"data_offsets {offsetsElement.GetRawText()} must be two integers with 0 <= begin <= end.");
        }
        var info = new SafetensorsTensorInfo(name, dtype, shape, begin, end);
        long expectedBytes = info.ElementCount * dtype.ElementSize();
        if (info.ByteLength != expectedBytes)
        {
            throw new CheckpointException(path, name,
                $"data_offsets span {info.ByteLength} bytes but {dtype} {FormatShape(shape)} needs {expectedBytes}.");
        }
        if (end > dataLength)
        {
            throw new CheckpointException(path, name,
                $"data ends at byte {end} of the data section, past its end ({dataLength} bytes): the file is truncated or the header is wrong.");
        }
        return info;
    }

    /// <summary>
    /// Copies one tensor into <paramref name="destination"/>, which must already have the stored shape. Reads straight into the
    /// destination's memory when it is a contiguous CPU tensor of the stored type; otherwise goes through one temporary tensor of
    /// this tensor's size (type conversion, other devices), so loading never holds more than one extra tensor.
    /// </summary>
    public void ReadInto(string name, torch.Tensor destination)
    {
        SafetensorsTensorInfo info = Get(name);
        if (!destination.shape.SequenceEqual(info.Shape))
        {
            throw new CheckpointException(Path, name, $"stored shape {FormatShape(info.Shape)} does not match the destination {FormatShape(destination.shape)}.");
        }
        if (destination.device_type == DeviceType.CPU && destination.dtype == info.DType.ToScalarType() && destination.is_contiguous())
        {
            ReadBytes(info, destination);
            return;
        }
        using var staging = torch.empty(info.Shape, info.DType.ToScalarType());
        ReadBytes(info, staging);
        using (torch.no_grad())
        {
            destination.copy_(staging);
        }
    }

    /// <summary>Reads one tensor into a new CPU tensor of its stored type.</summary>
    public torch.Tensor Read(string name)
    {
        SafetensorsTensorInfo info = Get(name);
        var tensor = torch.empty(info.Shape, info.DType.ToScalarType());
        try
        {
            ReadBytes(info, tensor);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    private SafetensorsTensorInfo Get(string name) =>
        Tensors.TryGetValue(name, out SafetensorsTensorInfo? info)
            ? info
            : throw new CheckpointException(Path, name, "no such tensor in this file.");

    private void ReadBytes(SafetensorsTensorInfo info, torch.Tensor contiguousCpu)
    {
        if (info.ByteLength == 0)
        {
            return;
        }
        // Tensor.bytes is a span over the tensor's own storage; it is limited to int.MaxValue bytes, so very large tensors
        // are read through narrow views of the first dimension.
        const long MaxSpan = 1L << 30;
        if (info.ByteLength <= MaxSpan || info.Shape.Length == 0)
        {
            ReadExactly(_handle, contiguousCpu.bytes, _dataStart + info.Begin, Path);
            return;
        }
        long rows = info.Shape[0];
        long rowBytes = info.ByteLength / rows;
        long rowsPerChunk = Math.Max(1, MaxSpan / rowBytes);
        for (long row = 0; row < rows; row += rowsPerChunk)
        {
            long count = Math.Min(rowsPerChunk, rows - row);
            using var view = contiguousCpu.narrow(0, row, count);
            ReadExactly(_handle, view.bytes, _dataStart + info.Begin + row * rowBytes, Path);
        }
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        while (!buffer.IsEmpty)
        {
            int read = RandomAccess.Read(handle, buffer, offset);
            if (read <= 0)
            {
                throw new CheckpointException(path, null, $"unexpected end of file at byte {offset}: the file is truncated.");
            }
            buffer = buffer[read..];
            offset += read;
        }
    }

    public static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    public void Dispose() => _handle.Dispose();
}
