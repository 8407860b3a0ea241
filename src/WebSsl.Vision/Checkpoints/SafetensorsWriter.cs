using System.Text;
using System.Text.Json;
using TorchSharp;

namespace WebSsl.Vision.Checkpoints;

/// <summary>What a tensor in a file to be written will be: its name, stored type and shape.</summary>
public sealed record TensorSpec(string Name, SafetensorsDType DType, long[] Shape)
{
    public long ByteLength => Shape.Aggregate(1L, (n, d) => n * d) * DType.ElementSize();
}

/// <summary>
/// Writes safetensors files in the layout the reference implementation produces (JSON header padded with spaces to a
/// multiple of 8, tensors back to back). Files are written to a temporary name and renamed, so a reader never sees a
/// half-written file under the final name.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Writes tensors produced one at a time by <paramref name="produce"/>, so a file larger than memory can be written.</summary>
    public static void Write(string path, IReadOnlyList<TensorSpec> specs, Func<TensorSpec, torch.Tensor> produce,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        byte[] header = BuildHeader(specs, metadata);
        string temporary = path + ".partial";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BitConverter.TryWriteBytes(length, (long)header.Length);
                stream.Write(length);
                stream.Write(header);
                foreach (TensorSpec spec in specs)
                {
                    using var scope = torch.NewDisposeScope();
                    torch.Tensor produced = produce(spec);
                    if (!produced.shape.SequenceEqual(spec.Shape))
                    {
                        throw new ArgumentException($"tensor '{spec.Name}' was produced with shape {SafetensorsFile.FormatShape(produced.shape)}, expected {SafetensorsFile.FormatShape(spec.Shape)}.");
                    }
                    torch.Tensor stored = produced.to(spec.DType.ToScalarType(), torch.CPU).contiguous();
                    stream.Write(stored.bytes);
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

    /// <summary>Writes in-memory tensors, each converted to <paramref name="dtype"/> (or kept in its own type when null).</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors, SafetensorsDType? dtype = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var byName = tensors.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        var specs = byName
            .Select(t => new TensorSpec(t.Key, dtype ?? SafetensorsDTypes.FromScalarType(t.Value.dtype), t.Value.shape))
            .ToList();
        Write(path, specs, spec => byName[spec.Name].alias(), metadata);
    }

    private static byte[] BuildHeader(IReadOnlyList<TensorSpec> specs, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (TensorSpec spec in specs)
            {
                json.WriteStartObject(spec.Name);
                json.WriteString("dtype", spec.DType.ToString());
                json.WriteStartArray("shape");
                foreach (long d in spec.Shape)
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + spec.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += spec.ByteLength;
            }
            json.WriteEndObject();
        }
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        byte[] header = new byte[padded];
        buffer.ToArray().CopyTo(header, 0);
        Encoding.ASCII.GetBytes(new string(' ', padded - (int)buffer.Length)).CopyTo(header, (int)buffer.Length);
        return header;
    }
}
