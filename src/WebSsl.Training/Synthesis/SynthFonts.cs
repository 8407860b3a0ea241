using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using SkiaSharp;

namespace WebSsl.Training.Synthesis;

/// <summary>
/// The Inter typefaces used by every synthetic image. No system font is assumed: the TTF files come from the
/// Avalonia.Fonts.Inter NuGet package (SIL Open Font License), which the build downloads and copies next to the program,
/// so a fresh machine renders identical pixels. The package keeps the fonts as resources of its assembly in Avalonia's
/// resource container (an index of path, offset, size, then the bytes); they are read with System.Reflection.Metadata,
/// without loading the assembly or Avalonia. Nothing else on NuGet ships a plain TTF, hence this small reader.
/// </summary>
public sealed class SynthFonts
{
    public const string PackageAssembly = "Avalonia.Fonts.Inter.dll";
    private static readonly Lazy<SynthFonts> Shared = new(() => Load(Path.Combine(AppContext.BaseDirectory, "fonts", PackageAssembly)));

    private SynthFonts(SKTypeface regular, SKTypeface medium, SKTypeface bold, SKTypeface light)
    {
        Regular = regular;
        Medium = medium;
        Bold = bold;
        Light = light;
    }

    public static SynthFonts Default => Shared.Value;

    public SKTypeface Regular { get; }
    public SKTypeface Medium { get; }
    public SKTypeface Bold { get; }
    public SKTypeface Light { get; }

    public SKTypeface Get(FontWeight weight) => weight switch
    {
        FontWeight.Light => Light,
        FontWeight.Medium => Medium,
        FontWeight.Bold => Bold,
        _ => Regular,
    };

    public static SynthFonts Load(string assemblyPath)
    {
        if (!File.Exists(assemblyPath))
        {
            throw new FileNotFoundException(
                $"{assemblyPath}: the Inter font package is missing; it is copied there by the build (PackageDownload Avalonia.Fonts.Inter). Rebuild the project.",
                assemblyPath);
        }
        Dictionary<string, byte[]> files = ReadAvaloniaResources(File.ReadAllBytes(assemblyPath));
        SKTypeface Face(string name) => files.TryGetValue($"/Assets/Inter-{name}.ttf", out byte[]? ttf)
            ? SKTypeface.FromData(SKData.CreateCopy(ttf)) ?? throw new InvalidDataException($"{assemblyPath}: Inter-{name}.ttf is not a font Skia can read.")
            : throw new InvalidDataException($"{assemblyPath}: Inter-{name}.ttf is not among its resources ({string.Join(", ", files.Keys)}).");
        return new SynthFonts(Face("Regular"), Face("Medium"), Face("Bold"), Face("Light"));
    }

    private static Dictionary<string, byte[]> ReadAvaloniaResources(byte[] image)
    {
        using var pe = new PEReader(new MemoryStream(image, writable: false));
        MetadataReader metadata = pe.GetMetadataReader();
        CorHeader cor = pe.PEHeaders.CorHeader ?? throw new InvalidDataException("not a .NET assembly.");
        foreach (ManifestResourceHandle handle in metadata.ManifestResources)
        {
            ManifestResource resource = metadata.GetManifestResource(handle);
            if (metadata.GetString(resource.Name) != "!AvaloniaResources")
            {
                continue;
            }
            PEMemoryBlock block = pe.GetSectionData(cor.ResourcesDirectory.RelativeVirtualAddress);
            BlobReader blob = block.GetReader((int)resource.Offset, block.Length - (int)resource.Offset);
            int length = blob.ReadInt32();
            byte[] container = blob.ReadBytes(length);
            using var reader = new BinaryReader(new MemoryStream(container));
            int indexLength = reader.ReadInt32();
            long dataStart = reader.BaseStream.Position + indexLength;
            reader.ReadInt32(); // container version
            int count = reader.ReadInt32();
            var entries = new List<(string Path, int Offset, int Size)>();
            for (int i = 0; i < count; i++)
            {
                entries.Add((reader.ReadString(), reader.ReadInt32(), reader.ReadInt32()));
            }
            return entries.ToDictionary(e => e.Path, e => container.AsSpan((int)(dataStart + e.Offset), e.Size).ToArray());
        }
        throw new InvalidDataException("the assembly has no Avalonia resources.");
    }
}

public enum FontWeight
{
    Light,
    Regular,
    Medium,
    Bold,
}
