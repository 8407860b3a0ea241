using System.CommandLine;
using WebSsl.Vision.Images;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary>Options that mean the same in every command.</summary>
internal static class SharedOptions
{
    public static Option<string> Device() => new("--device")
    {
        Description = "Where the encoder runs: cpu, cuda or cuda:N (CUDA needs a build with -p:WebSslAccelerator=cuda).",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<string?> ComputeType() => new("--dtype")
    {
        Description = "Compute type: float32, float16 or bfloat16 (default: float32 on CPU, the stored half type on CUDA).",
    };

    public static Option<int?> Threads() => new("--threads")
    {
        Description = "libtorch threads (default: one per core).",
    };

    public static Option<string> Preprocess() => new Option<string>("--preprocess")
    {
        Description = "crop (transformers' resize + center crop), pad (letterbox with the mean color; keeps chart and page edges) or stretch.",
        DefaultValueFactory = _ => "crop",
    }.AcceptOnlyFromAmong("crop", "pad", "stretch");

    public static PreprocessMode ParseMode(string text) => Enum.Parse<PreprocessMode>(text, ignoreCase: true);

    public static Option<int?> Resolution() => new("--resolution")
    {
        Description = "Square input side in pixels (a multiple of the patch size); default: the checkpoint's.",
    };

    public static Option<string> Enhance() => new("--enhance")
    {
        Description = "Scan clean-up before preprocessing: none, equalize (adaptive histogram), binarize (adaptive threshold), or both comma-separated.",
        DefaultValueFactory = _ => "none",
    };
}
