using WebSsl.Multimodal.Assistant;
using WebSsl.Vision.Images;

namespace WebSsl.Assistant.Server.Security;

/// <summary>
/// Settings that would let requests take more memory than the machine has are refused at start, not discovered when
/// the process is killed: decoding images at the pixel limit, as many at once as allowed, must fit in half of the
/// memory available to the process.
/// </summary>
public static class ResourcePolicy
{
    public static void Check(AssistantOptions options, long availableBytes)
    {
        ImageDecodeOptions decoding = options.Decoding;
        if (decoding.MaxConcurrent < 1 || decoding.MaxWaiting < 0 || decoding.MaxWait <= TimeSpan.Zero)
        {
            throw new ServerConfigurationException(
                $"image decoding needs MaxConcurrent ≥ 1, MaxWaiting ≥ 0 and a positive MaxWait (WebSslAssistant:Assistant:Decoding); got {decoding.MaxConcurrent}, {decoding.MaxWaiting}, {decoding.MaxWait}.");
        }
        long peak = decoding.PeakBytes(options.ImageLimits);
        if (peak > availableBytes / 2)
        {
            throw new ServerConfigurationException(
                $"image decoding could hold {Gib(peak)} at once ({decoding.MaxConcurrent} decodes x {options.ImageLimits.MaxPixels:N0} pixels x " +
                $"{ImageDecodeOptions.BytesPerPixel} bytes), over half of the {Gib(availableBytes)} available: lower WebSslAssistant:Assistant:Decoding:MaxConcurrent " +
                "or WebSslAssistant:Assistant:ImageLimits:MaxPixels.");
        }
    }

    public static string Gib(long bytes) => $"{bytes / (1024.0 * 1024 * 1024):0.0} GiB";
}
