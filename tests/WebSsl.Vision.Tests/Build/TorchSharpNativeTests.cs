using System.Reflection;
using WebSsl.Build;
using static TorchSharp.torch;

namespace WebSsl.Vision.Tests.Build;

/// <summary>The Debian 12 libstdc++ fix, checked on the copy this very test run loaded.</summary>
public sealed class TorchSharpNativeTests : IDisposable
{
    private const string Version = "GLIBCXX_3.4.32";
    private static readonly string[] SystemLibStdCxx = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6"];
    private readonly TempDirectory _temp = new();

    private static string OutputCopy => Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");

    private static string NuGetOriginal =>
        Path.Combine(typeof(TorchSharpNativeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "TorchSharpPackageDirectory").Value!, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private static bool SystemHasVersion => SystemLibStdCxx.Any(p => ElfVersionNeeds.LibraryDefines(p, Version));

    [Fact]
    public void Libtorch_loads_and_computes_in_this_process()
    {
        using Tensor product = mm(ones(2, 3), ones(3, 4));
        Assert.Equal(3f, product[1, 2].item<float>());
    }

    [Fact]
    public void The_build_output_copy_needs_GLIBCXX_3_4_32_only_weakly_unless_the_system_has_it()
    {
        Assert.True(File.Exists(OutputCopy), $"{OutputCopy} is missing from the test output");
        bool? weak = ElfVersionNeeds.IsWeak(OutputCopy, Version);
        Assert.True(SystemHasVersion || weak == true, $"{OutputCopy}: {Version} requirement is {(weak is null ? "absent" : weak.Value ? "weak" : "strong")}");
    }

    [Fact]
    public void Patching_changes_one_flag_is_idempotent_and_leaves_the_NuGet_cache_alone()
    {
        Assert.Equal(false, ElfVersionNeeds.IsWeak(NuGetOriginal, Version));
        string copy = _temp.File("libLibTorchSharp.so");
        File.Copy(NuGetOriginal, copy);

        Assert.Equal(ElfPatchOutcome.MarkedWeak, ElfVersionNeeds.MarkWeak(copy, Version));
        byte[] original = File.ReadAllBytes(NuGetOriginal), patched = File.ReadAllBytes(copy);
        Assert.Equal(original.Length, patched.Length);
        Assert.Single(Enumerable.Range(0, original.Length), i => original[i] != patched[i]);
        Assert.Equal(true, ElfVersionNeeds.IsWeak(copy, Version));

        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionNeeds.MarkWeak(copy, Version));
        Assert.Equal(patched, File.ReadAllBytes(copy));
        Assert.Equal(ElfPatchOutcome.NotRequired, ElfVersionNeeds.MarkWeak(copy, "GLIBCXX_9.9.99"));
        Assert.Equal(false, ElfVersionNeeds.IsWeak(NuGetOriginal, Version));
    }

    [Fact]
    public void A_file_that_is_not_ELF_is_refused_with_its_name()
    {
        string path = _temp.File("not-elf.so");
        File.WriteAllText(path, "this is text, not a shared library, padded to more than sixty-four bytes of content....");
        var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(path, Version));
        Assert.Contains("not-elf.so", error.Message);
        Assert.Contains("not an ELF file", error.Message);
    }

    public void Dispose() => _temp.Dispose();
}
