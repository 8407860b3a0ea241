using SkiaSharp;

namespace WebSsl.Testing;

/// <summary>Real PDFs for the document tests, written by SkiaSharp's PDF backend.</summary>
public static class TestDocuments
{
    /// <summary>A PDF whose pages are these encoded images, one page each, at 1 pt per pixel (so 72 dpi gives the pixels back).</summary>
    public static byte[] PdfOf(params byte[][] images)
    {
        using var stream = new SKDynamicMemoryWStream();
        using (SKDocument document = SKDocument.CreatePdf(stream))
        {
            foreach (byte[] encoded in images)
            {
                using SKImage image = SKImage.FromEncodedData(encoded);
                SKCanvas canvas = document.BeginPage(image.Width, image.Height);
                canvas.DrawImage(image, 0, 0, SKSamplingOptions.Default);
                document.EndPage();
            }
            document.Close();
        }
        return stream.DetachAsData().ToArray();
    }
}
