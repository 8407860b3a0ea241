using System.Runtime.InteropServices;
using TorchSharp;

namespace WebSsl.Vision.Runtime;

/// <summary>
/// Asks Linux to back large CPU tensors with transparent huge pages. On virtual machines a first touch of a 4 KiB page
/// can cost ~10 us (measured here: 3.1 s to first-fill a 1.2 GB tensor, 0.07 s to fill it again), which made reading a
/// ViT-L checkpoint take seconds; with 2 MiB pages the same load faults 512x less often. A hint only: where THP is
/// disabled or the call fails, nothing changes.
/// </summary>
public static partial class HugePages
{
    private const long HugePageSize = 2L << 20;
    private const int MadvHugePage = 14;

    /// <summary>Advises the whole 2 MiB-aligned part of a contiguous CPU tensor's memory; does nothing for small tensors.</summary>
    public static void Advise(torch.Tensor tensor)
    {
        if (!OperatingSystem.IsLinux() || tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
        {
            return;
        }
        long bytes = tensor.numel() * tensor.element_size();
        if (bytes < 2 * HugePageSize)
        {
            return;
        }
        long start = Address(tensor);
        long alignedStart = (start + HugePageSize - 1) & ~(HugePageSize - 1);
        long alignedEnd = (start + bytes) & ~(HugePageSize - 1);
        if (alignedEnd > alignedStart)
        {
            _ = MAdvise(new IntPtr(alignedStart), new UIntPtr((ulong)(alignedEnd - alignedStart)), MadvHugePage);
        }
    }

    /// <summary>The address of the first element (through a one-row view: Tensor.bytes spans are limited to 2 GiB).</summary>
    private static unsafe long Address(torch.Tensor tensor)
    {
        using torch.Tensor first = tensor.dim() == 0 ? tensor.alias() : tensor.narrow(0, 0, 1);
        fixed (byte* pointer = first.bytes)
        {
            return (long)pointer;
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int MAdvise(IntPtr address, UIntPtr length, int advice);
}
