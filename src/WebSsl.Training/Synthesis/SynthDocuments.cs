using System.Text.Json;
using SkiaSharp;

namespace WebSsl.Training.Synthesis;

/// <summary>
/// Binds consecutive synthetic pages into multi-page PDFs (SkiaSharp's PDF backend) and lists them in documents.json:
/// each document's file, its page images, the resolution to render it at, and every question with the page it is about.
/// A page is placed at <c>pixels x 72 / dpi</c> points, so poppler rendering it at that dpi gives the page image's size.
/// </summary>
internal sealed class SynthDocuments(string directory, SynthOptions options)
{
    private readonly List<(SyntheticImage Image, string Relative)> _pending = [];
    private readonly List<object> _listed = [];

    public void Add(SyntheticImage page, string relative)
    {
        if (options.PdfPages is not int perDocument)
        {
            return;
        }
        _pending.Add((page, relative));
        if (_pending.Count == perDocument)
        {
            Flush();
        }
    }

    public void Finish()
    {
        if (options.PdfPages is null)
        {
            return;
        }
        Flush();
        SyntheticDataset.WriteWhole(Path.Combine(directory, "documents.json"), JsonSerializer.SerializeToUtf8Bytes(_listed, SyntheticDataset.Indented));
    }

    /// <summary>
    /// The dpi demo pages are bound at: 72, one point per pixel. SkiaSharp writes page sizes in whole points and poppler
    /// rounds a rendered size up, so only a whole number of points per pixel gives a 224 x 336 page back exactly.
    /// </summary>
    public const int DemoPageDpi = 72;

    /// <summary>A PDF of these encoded page images, one per page, each <c>pixels x 72 / dpi</c> points in size (written whole, then renamed).</summary>
    public static void WritePdf(string path, IEnumerable<byte[]> pages, int dpi)
    {
        using var stream = new SKDynamicMemoryWStream();
        using (SKDocument pdf = SKDocument.CreatePdf(stream))
        {
            foreach (byte[] encoded in pages)
            {
                using SKImage image = SKImage.FromEncodedData(encoded);
                float scale = 72f / dpi;
                SKCanvas canvas = pdf.BeginPage(image.Width * scale, image.Height * scale);
                canvas.Scale(scale);
                canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear));
                pdf.EndPage();
            }
            pdf.Close();
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SyntheticDataset.WriteWhole(path, stream.DetachAsData().ToArray());
    }

    /// <summary>
    /// The dpi pages of this profile are bound at: <see cref="DemoPageDpi"/> for demo pages; for full pages the dpi they
    /// were drawn at (150 for A4 at 1240 px), which renders them back within a pixel (the page size is whole points).
    /// </summary>
    public static int DpiOf(SynthOptions options, int width) =>
        options.Profile == SynthProfile.Demo ? DemoPageDpi : (int)Math.Round(72 * width / 595.0);

    private void Flush()
    {
        if (_pending.Count == 0)
        {
            return;
        }
        string name = $"document-{_listed.Count:D4}.pdf";
        string folder = Directory.CreateDirectory(Path.Combine(directory, "documents")).FullName;
        int dpi = DpiOf(options, _pending[0].Image.Width);
        WritePdf(Path.Combine(folder, name), _pending.Select(p => p.Image.Bytes), dpi);
        _listed.Add(new
        {
            id = Path.GetFileNameWithoutExtension(name),
            file = $"documents/{name}",
            dpi,
            pages = _pending.Select(p => p.Relative).ToArray(),
            questions = _pending.SelectMany((p, index) => p.Image.Questions.Select(q => new { page = index + 1, question = q.Question, answer = q.Answer, category = q.Category }))
                .ToArray(),
        });
        _pending.Clear();
    }
}
