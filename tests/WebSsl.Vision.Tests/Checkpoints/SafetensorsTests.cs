using System.Text;
using WebSsl.Vision.Checkpoints;
using static TorchSharp.torch;

namespace WebSsl.Vision.Tests.Checkpoints;

public sealed class SafetensorsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory]
    [InlineData(SafetensorsDType.F32)]
    [InlineData(SafetensorsDType.F16)]
    [InlineData(SafetensorsDType.BF16)]
    public void Written_tensors_read_back_with_their_names_shapes_and_values(SafetensorsDType dtype)
    {
        string path = _temp.File("weights.safetensors");
        using Tensor a = arange(12, dtype: ScalarType.Float32).reshape(3, 4) / 4;
        using Tensor b = tensor(new[] { -1.5f, 2.25f });
        SafetensorsWriter.Write(path, [new("a", a), new("b", b)], dtype, new Dictionary<string, string> { ["format"] = "pt" });

        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(dtype, file.Tensors["a"].DType);
        Assert.Equal([3L, 4], file.Tensors["a"].Shape);
        using Tensor readA = file.Read("a");
        Assert.Equal(dtype.ToScalarType(), readA.dtype);
        TensorAssert.Identical(a, readA.to(ScalarType.Float32)); // these values are exact in every half type

        using Tensor into = zeros(2);
        file.ReadInto("b", into);
        Assert.Equal(new[] { -1.5f, 2.25f }, into.data<float>().ToArray());
        Assert.Equal(0L, BitConverter.ToInt64(File.ReadAllBytes(path), 0) % 8); // header padded to 8 bytes like the reference writer
    }

    [Fact]
    public void Reading_into_a_destination_of_another_shape_is_refused()
    {
        string path = _temp.File("w.safetensors");
        SafetensorsWriter.Write(path, [new("w", ones(2, 3))]);
        using SafetensorsFile file = SafetensorsFile.Open(path);
        var error = Assert.Throws<CheckpointException>(() => file.ReadInto("w", zeros(3, 2)));
        Assert.Contains("'w'", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void A_truncated_file_is_refused_before_anything_is_read()
    {
        string path = _temp.File("cut.safetensors");
        SafetensorsWriter.Write(path, [new("big", ones(64, 64))]);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Equal("big", error.Key);
        Assert.Contains("past its end", error.Message);
        Assert.Contains("cut.safetensors", error.Message);
    }

    [Fact]
    public void A_header_longer_than_the_file_is_refused()
    {
        string path = _temp.File("short.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(4096L), .. "{}"u8]);
        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains("truncated", error.Message);
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", "I64 is not supported")]
    [InlineData("{\"w\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,8]}}", "unknown dtype 'Q4'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs 12")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", "past its end")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "0 <= begin <= end")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "non-negative")]
    [InlineData("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "must have \"dtype\"")]
    [InlineData("{\"w\": not json", "not valid JSON")]
    public void Each_malformed_header_gets_an_error_naming_the_rule(string header, string expected)
    {
        string path = _temp.File("bad.safetensors");
        byte[] json = Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)json.Length), .. json, .. new byte[16]]);
        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains(expected, error.Message);
        Assert.Contains("bad.safetensors", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_safetensors_at_all_is_refused()
    {
        string path = _temp.File("model.safetensors");
        File.WriteAllText(path, "PK\u0003\u0004 this is a zip (a PyTorch .bin renamed)");
        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains("not plausible", error.Message);
    }

    public void Dispose() => _temp.Dispose();
}
