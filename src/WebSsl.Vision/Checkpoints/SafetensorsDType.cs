using TorchSharp;

namespace WebSsl.Vision.Checkpoints;

/// <summary>Element types this project reads and writes in safetensors files.</summary>
public enum SafetensorsDType
{
    F32,
    F16,
    BF16,
}

public static class SafetensorsDTypes
{
    /// <summary>Every dtype name the safetensors format defines; those outside <see cref="SafetensorsDType"/> are refused by name.</summary>
    private static readonly HashSet<string> KnownButUnsupported =
        ["F64", "I64", "U64", "I32", "U32", "I16", "U16", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"];

    public static int ElementSize(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 => 4,
        SafetensorsDType.F16 => 2,
        SafetensorsDType.BF16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public static torch.ScalarType ToScalarType(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 => torch.ScalarType.Float32,
        SafetensorsDType.F16 => torch.ScalarType.Float16,
        SafetensorsDType.BF16 => torch.ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public static SafetensorsDType FromScalarType(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float32 => SafetensorsDType.F32,
        torch.ScalarType.Float16 => SafetensorsDType.F16,
        torch.ScalarType.BFloat16 => SafetensorsDType.BF16,
        _ => throw new BadInputException($"tensor type {type} cannot be written; use float32, float16 or bfloat16."),
    };

    /// <summary>Parses a header dtype string; returns null with a reason when the type is unknown or unsupported.</summary>
    public static SafetensorsDType? TryParse(string name, out string? reason)
    {
        reason = null;
        switch (name)
        {
            case "F32": return SafetensorsDType.F32;
            case "F16": return SafetensorsDType.F16;
            case "BF16": return SafetensorsDType.BF16;
        }
        reason = KnownButUnsupported.Contains(name)
            ? $"dtype {name} is not supported for weights (supported: F32, F16, BF16)"
            : $"unknown dtype '{name}' (supported: F32, F16, BF16)";
        return null;
    }
}
