using System.Text.Json;
using WebSsl.Training.Demo;

namespace WebSsl.Assistant.Cli.Tests;

/// <summary><c>webssl ask --image doc.pdf --pages N-M</c>: a PDF's pages become the question's images.</summary>
public sealed class AskPdfCommandTests
{
    private static DemoBundle Shipped => DemoBundle.Open(Path.Combine(AppContext.BaseDirectory, DemoBundle.ShippedFolder), new DemoOptions());

    private static byte[] PdfOf(params string[] pngs) => TestDocuments.PdfOf(pngs.Select(File.ReadAllBytes).ToArray());

    [Fact]
    public async Task The_asked_page_of_a_pdf_is_read_like_the_image_it_shows()
    {
        var examples = JsonSerializer.Deserialize<List<DemoExample>>(File.ReadAllText(Shipped.Resolve(DemoBundle.ExamplesFile)))!;
        string folder = Path.GetDirectoryName(Shipped.Resolve(DemoBundle.ExamplesFile))!;
        DemoExample asked = examples[0];
        string other = examples.First(e => e.Image != asked.Image).Image;
        using var temp = new TempDirectory();
        string pdf = Path.Combine(temp.Path, "charts.pdf");
        File.WriteAllBytes(pdf, PdfOf(Path.Combine(folder, other), Path.Combine(folder, asked.Image), Path.Combine(folder, other)));

        CliRun run = await CliRun.Webssl("ask", "--image", pdf, "--pages", "2", "--dpi", "72", "--max-tokens", "8", asked.Question);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("images 1 (112x112->112px", run.Error); // one page, at the size the image had
        Assert.Equal(asked.BuildAnswer.Trim(), run.Output.Trim());
    }

    [Fact]
    public async Task Bad_page_ranges_and_bad_pdfs_are_refused_naming_the_rule()
    {
        using var temp = new TempDirectory();
        string broken = Path.Combine(temp.Path, "broken.pdf");
        File.WriteAllText(broken, "%PDF-1.7\nthis is not a document");

        CliRun range = await CliRun.Webssl("ask", "--image", broken, "--pages", "3-1", "?");
        Assert.Equal(2, range.ExitCode);
        Assert.Contains("--pages '3-1'", range.Error);

        CliRun corrupt = await CliRun.Webssl("ask", "--image", broken, "?");
        Assert.Equal(2, corrupt.ExitCode);
        Assert.Contains("broken.pdf: the PDF cannot be read", corrupt.Error);
    }
}
