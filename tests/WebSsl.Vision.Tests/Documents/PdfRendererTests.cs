using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SkiaSharp;
using WebSsl.Vision.Documents;
using WebSsl.Vision.Images;

namespace WebSsl.Vision.Tests.Documents;

/// <summary>PDF pages rasterized by poppler (pdfinfo, pdftoppm), every document checked and bounded first.</summary>
public sealed class PdfRendererTests
{
    /// <summary>A PDF written by SkiaSharp's PDF backend: one page per colour, each filled with it.</summary>
    private static byte[] Pdf(float widthPt, float heightPt, params SKColor[] pages)
    {
        using var stream = new SKDynamicMemoryWStream();
        using (SKDocument document = SKDocument.CreatePdf(stream))
        {
            foreach (SKColor colour in pages)
            {
                SKCanvas canvas = document.BeginPage(widthPt, heightPt);
                canvas.Clear(colour);
                document.EndPage();
            }
            document.Close();
        }
        return stream.DetachAsData().ToArray();
    }

    [Fact]
    public async Task Pages_come_back_in_order_at_the_chosen_resolution()
    {
        Assert.True(PdfRenderer.IsAvailable, "Debian's poppler-utils is missing: ./test.sh installs it.");
        byte[] pdf = Pdf(144, 216, SKColors.Red, SKColors.Lime, SKColors.Blue); // 2 x 3 inches
        IReadOnlyList<RenderedPage> pages = await PdfRenderer.RenderAsync(pdf, "three.pdf", options: new PdfRenderOptions { Dpi = 50 });
        Assert.Equal([1, 2, 3], pages.Select(p => p.Number));
        Assert.All(pages, p => Assert.Equal((100, 150), (p.Width, p.Height)));
        Rgb24[] expected = [new(255, 0, 0), new(0, 255, 0), new(0, 0, 255)];
        for (int i = 0; i < 3; i++)
        {
            using Image<Rgb24> image = ImageLoader.Load(pages[i].Png, $"page {i + 1}");
            Assert.Equal(expected[i], image[50, 75]);
        }

        IReadOnlyList<RenderedPage> second = await PdfRenderer.RenderAsync(pdf, "three.pdf", first: 2, last: 2, options: new PdfRenderOptions { Dpi = 50 });
        Assert.Equal(2, Assert.Single(second).Number);
        PdfInfo info = await PdfRenderer.InspectAsync(pdf, "three.pdf");
        Assert.Equal(3, info.Pages);
        Assert.Equal((144.0, 216.0), info.PageSizes[2]);
    }

    [Fact]
    public async Task Bad_documents_are_refused_naming_the_file_and_the_rule()
    {
        byte[] pdf = Pdf(144, 216, SKColors.White, SKColors.White);
        async Task<PdfRejectedException> Refused(byte[] bytes, int? first = null, int? last = null, PdfRenderOptions? options = null) =>
            await Assert.ThrowsAsync<PdfRejectedException>(() => PdfRenderer.RenderAsync(bytes, "doc.pdf", first, last, options));

        PdfRejectedException notPdf = await Refused("hello, I am text"u8.ToArray());
        Assert.Equal((PdfRejection.Corrupt, ProblemKind.Unprocessable), (notPdf.Reason, notPdf.Kind));
        Assert.StartsWith("doc.pdf: not a PDF", notPdf.Message);

        PdfRejectedException truncated = await Refused(pdf[..(pdf.Length / 3)]);
        Assert.Equal(PdfRejection.Corrupt, truncated.Reason);
        Assert.DoesNotContain("webssl-pdf-", truncated.Message); // no temporary paths in what clients see

        PdfRejectedException outside = await Refused(pdf, first: 2, last: 5);
        Assert.Equal((PdfRejection.NoSuchPage, ProblemKind.BadInput), (outside.Reason, outside.Kind));
        Assert.Contains("pages 2-5 are not in the document, which has 2 page(s)", outside.Message);

        PdfRejectedException tooMany = await Refused(pdf, options: new PdfRenderOptions { MaxPages = 1 });
        Assert.Contains("2 pages asked for; at most 1", tooMany.Message);
    }

    [Fact]
    public async Task A_page_of_absurd_size_is_refused_before_it_is_rendered()
    {
        byte[] poster = Pdf(14_000, 14_000, SKColors.White); // 194 inches square: 840 megapixels at 150 dpi
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PdfRejectedException>(() => PdfRenderer.RenderAsync(poster, "poster.pdf"));
        Assert.Equal((PdfRejection.PageTooLarge, ProblemKind.TooLarge), (error.Reason, error.Kind));
        Assert.Contains("page 1 is 14000 x 14000 pt", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "refused from the page size, without rendering");
    }

    [Fact]
    public async Task A_renderer_that_takes_too_long_is_stopped()
    {
        byte[] pdf = Pdf(144, 216, SKColors.White);
        var error = await Assert.ThrowsAsync<PdfRejectedException>(() =>
            PdfRenderer.RenderAsync(pdf, "slow.pdf", options: new PdfRenderOptions { Timeout = TimeSpan.FromMilliseconds(1) }));
        Assert.Equal(PdfRejection.Timeout, error.Reason);
        Assert.Contains("longer than the limit", error.Message);
    }

    [Fact]
    public void Pdfs_are_told_apart_from_images_by_their_header()
    {
        Assert.True(PdfRenderer.LooksLikePdf("%PDF-1.7\n"u8));
        Assert.True(PdfRenderer.LooksLikePdf([.. new byte[100], .. "%PDF-1.4"u8]));
        using Image<Rgb24> image = TestImages.Gradient(4, 4);
        Assert.False(PdfRenderer.LooksLikePdf(TestImages.Encode(image, TestImages.Png)));
    }
}
