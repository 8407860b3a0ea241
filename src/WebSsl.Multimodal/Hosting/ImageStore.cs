using System.Security.Cryptography;
using WebSsl.Multimodal.Assistant;
using WebSsl.Vision.Images;

namespace WebSsl.Multimodal.Hosting;

/// <summary>Images kept by id so that prompts, plugins and conversations refer to them by id, never by base64.</summary>
public interface IImageStore
{
    /// <summary>Validates and stores an image; returns its id (the SHA-256 of its bytes).</summary>
    string Add(ReadOnlySpan<byte> bytes, string name);

    bool TryGet(string id, out AssistantImage image);
}

/// <summary>
/// Content-addressed image files in a folder: the id is the SHA-256 of the bytes, the file name the id. Images are
/// validated (format by content, size and pixel limits, completeness) before they are kept; writes are atomic.
/// </summary>
public sealed class FileImageStore : IImageStore
{
    private readonly string _directory;
    private readonly ImageLimits _limits;

    public FileImageStore(string directory, ImageLimits? limits = null)
    {
        _directory = Path.GetFullPath(directory);
        _limits = limits ?? ImageLimits.Default;
        Directory.CreateDirectory(_directory);
    }

    public string Add(ReadOnlySpan<byte> bytes, string name)
    {
        ImageLoader.Inspect(bytes, name, _limits);
        string id = Convert.ToHexStringLower(SHA256.HashData(bytes));
        string path = PathOf(id);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temporary = path + $".{Guid.NewGuid():N}.partial";
            File.WriteAllBytes(temporary, bytes.ToArray());
            File.Move(temporary, path, overwrite: true);
        }
        return id;
    }

    public bool TryGet(string id, out AssistantImage image)
    {
        image = null!;
        if (id.Length != 64 || !id.All(Uri.IsHexDigit))
        {
            return false;
        }
        string path = PathOf(id.ToLowerInvariant());
        if (!File.Exists(path))
        {
            return false;
        }
        image = new AssistantImage(File.ReadAllBytes(path), id);
        return true;
    }

    private string PathOf(string id) => Path.Combine(_directory, id[..2], id);
}
