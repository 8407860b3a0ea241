using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace WebSsl.Vision.Documents;

/// <summary>How PDF pages are rasterized, and the limits every document is held to.</summary>
public sealed record PdfRenderOptions
{
    /// <summary>Rendering resolution; null chooses one per document from <see cref="TargetPixelsPerPage"/> (150 dpi gives a letter page of 1275 x 1650 pixels, about 2 x 3 tiles of 448 px).</summary>
    public int? Dpi { get; init; }

    /// <summary>
    /// Pixels a page should have when the resolution is chosen: what the reader can use (its views' pixels) with room for
    /// resampling; the first page's size decides, between <see cref="MinDpi"/> and <see cref="MaxDpi"/>.
    /// </summary>
    public long TargetPixelsPerPage { get; init; } = 1275L * 1650;

    public const int MinDpi = 50;

    public const int MaxDpi = 300;

    /// <summary>The resolution at which a page of <paramref name="widthPt"/> × <paramref name="heightPt"/> points has about <see cref="TargetPixelsPerPage"/> pixels.</summary>
    public int DpiFor(double widthPt, double heightPt) =>
        Dpi ?? (int)Math.Clamp(Math.Round(72 * Math.Sqrt(TargetPixelsPerPage / (widthPt * heightPt))), MinDpi, MaxDpi);

    /// <summary>Rendering for a reader whose views are <paramref name="viewSize"/> pixels square, <paramref name="views"/> of them at most per page.</summary>
    public static PdfRenderOptions ForReader(int viewSize, int views) =>
        new() { TargetPixelsPerPage = 4L * viewSize * viewSize * Math.Max(1, views - 1) }; // twice each view's side: the resize has detail to work with

    /// <summary>Pages one document may render at once.</summary>
    public int MaxPages { get; init; } = 32;

    /// <summary>Largest page, in pixels at <see cref="Dpi"/>; a larger one is refused before it is rendered.</summary>
    public long MaxPixelsPerPage { get; init; } = 36_000_000;

    /// <summary>How long pdfinfo and pdftoppm may take for one document, together.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Address space the renderer may use (a hostile page cannot take the machine's memory).</summary>
    public long MaxRendererBytes { get; init; } = 2L << 30;
}

/// <summary>One rendered page: its number in the document (from 1) and a PNG of it.</summary>
public sealed record RenderedPage(int Number, byte[] Png, int Width, int Height)
{
    /// <summary>The resolution it was rendered at.</summary>
    public int Dpi { get; init; }

    /// <summary>Pages of the whole document it came from.</summary>
    public int DocumentPages { get; init; }
}

/// <summary>Pages of a document, and each page's size in points (1/72 inch).</summary>
public sealed record PdfInfo(int Pages, IReadOnlyList<(double Width, double Height)> PageSizes);

/// <summary>
/// Rasterizes PDF pages with Debian's poppler (<c>pdfinfo</c> to read the page count and sizes, <c>pdftoppm</c> to
/// render), the renderer Python's pdf2image wraps: a maintained PDF engine instead of one of our own. Every document is
/// checked before it is rendered (page count, each page's pixels at the resolution), the renderer runs with a time
/// limit and an address-space limit, and works in a private temporary folder removed afterwards.
/// </summary>
public static partial class PdfRenderer
{
    /// <summary>Whether <paramref name="bytes"/> start like a PDF (the header may follow up to 1024 bytes of junk, as readers accept).</summary>
    public static bool LooksLikePdf(ReadOnlySpan<byte> bytes) => bytes[..Math.Min(bytes.Length, 1024 + 5)].IndexOf("%PDF-"u8) >= 0;

    /// <summary>Whether pdftoppm and pdfinfo are on the PATH.</summary>
    public static bool IsAvailable => Find("pdftoppm") is not null && Find("pdfinfo") is not null;

    /// <summary>The page count and page sizes of a document.</summary>
    public static async Task<PdfInfo> InspectAsync(ReadOnlyMemory<byte> pdf, string name, PdfRenderOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PdfRenderOptions();
        using var work = new WorkFolder(pdf);
        using var deadline = Deadline(options, cancellationToken);
        return await InfoAsync(work, name, options, deadline.Token, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Renders pages <paramref name="first"/> to <paramref name="last"/> (from 1; null: the whole document) as PNGs, in
    /// page order.
    /// </summary>
    /// <exception cref="PdfRejectedException">naming the document and the rule it breaks.</exception>
    public static async Task<IReadOnlyList<RenderedPage>> RenderAsync(ReadOnlyMemory<byte> pdf, string name, int? first = null, int? last = null,
        PdfRenderOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PdfRenderOptions();
        if (!LooksLikePdf(pdf.Span))
        {
            throw new PdfRejectedException(name, PdfRejection.Corrupt, "not a PDF (no %PDF- header).");
        }
        using var work = new WorkFolder(pdf);
        using var deadline = Deadline(options, cancellationToken);
        PdfInfo info = await InfoAsync(work, name, options, deadline.Token, cancellationToken).ConfigureAwait(false);
        int from = first ?? 1, to = last ?? info.Pages;
        if (from < 1 || to > info.Pages || from > to)
        {
            throw new PdfRejectedException(name, PdfRejection.NoSuchPage, $"pages {from}-{to} are not in the document, which has {info.Pages} page(s).");
        }
        if (to - from + 1 > options.MaxPages)
        {
            throw new PdfRejectedException(name, PdfRejection.Pages,
                $"{to - from + 1} pages asked for; at most {options.MaxPages} are rendered at once. Ask for a page range.");
        }
        int dpi = options.DpiFor(info.PageSizes[from - 1].Width, info.PageSizes[from - 1].Height);
        for (int page = from; page <= to; page++)
        {
            (double width, double height) = info.PageSizes[page - 1];
            long pixels = (long)Math.Ceiling(width / 72 * dpi) * (long)Math.Ceiling(height / 72 * dpi);
            if (pixels > options.MaxPixelsPerPage)
            {
                throw new PdfRejectedException(name, PdfRejection.PageTooLarge,
                    $"page {page} is {width:0} x {height:0} pt, {pixels:N0} pixels at {dpi} dpi; the limit is {options.MaxPixelsPerPage:N0}.");
            }
        }
        string prefix = Path.Combine(work.Path, "page");
        await RunAsync("pdftoppm", ["-png", "-r", dpi.ToString(CultureInfo.InvariantCulture), "-f", from.ToString(CultureInfo.InvariantCulture),
            "-l", to.ToString(CultureInfo.InvariantCulture), work.Document, prefix], work, name, options, deadline.Token, cancellationToken).ConfigureAwait(false);
        var pages = new List<RenderedPage>();
        foreach (string file in Directory.GetFiles(work.Path, "page-*.png"))
        {
            int number = int.Parse(PageNumber().Match(Path.GetFileName(file)).Groups[1].Value, CultureInfo.InvariantCulture);
            byte[] png = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
            Images.ImageHeader header = Images.ImageLoader.Inspect(png, $"{name} page {number}");
            pages.Add(new RenderedPage(number, png, header.Width, header.Height) { Dpi = dpi, DocumentPages = info.Pages });
        }
        if (pages.Count != to - from + 1)
        {
            throw new PdfRejectedException(name, PdfRejection.Corrupt, $"the renderer produced {pages.Count} of the {to - from + 1} pages asked for.");
        }
        return pages.OrderBy(p => p.Number).ToList();
    }

    private static async Task<PdfInfo> InfoAsync(WorkFolder work, string name, PdfRenderOptions options, CancellationToken deadline, CancellationToken caller)
    {
        string text = await RunAsync("pdfinfo", ["-f", "1", "-l", "100000", work.Document], work, name, options, deadline, caller).ConfigureAwait(false);
        if (Field(text, "Encrypted") is { } encrypted && encrypted.StartsWith("yes", StringComparison.Ordinal))
        {
            throw new PdfRejectedException(name, PdfRejection.Encrypted, "the PDF is encrypted; send a copy without a password.");
        }
        if (!int.TryParse(Field(text, "Pages"), NumberStyles.None, CultureInfo.InvariantCulture, out int pages))
        {
            throw new PdfRejectedException(name, PdfRejection.Corrupt, "the PDF has no readable page count.");
        }
        if (pages == 0)
        {
            throw new PdfRejectedException(name, PdfRejection.NoPages, "the PDF has no pages.");
        }
        var sizes = new (double, double)[pages];
        foreach (Match m in PageSize().Matches(text))
        {
            int page = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (page >= 1 && page <= pages)
            {
                sizes[page - 1] = (double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
            }
        }
        if (sizes.Any(s => s.Item1 <= 0 || s.Item2 <= 0))
        {
            throw new PdfRejectedException(name, PdfRejection.Corrupt, "the PDF has pages without a readable size.");
        }
        return new PdfInfo(pages, sizes);
    }

    private static string? Field(string text, string key) =>
        text.Split('\n').Where(l => l.StartsWith(key + ":", StringComparison.Ordinal)).Select(l => l[(key.Length + 1)..].Trim()).FirstOrDefault();

    /// <summary>Runs a poppler tool under the time and memory limits; its stderr becomes the reason when it fails.</summary>
    private static async Task<string> RunAsync(string tool, IReadOnlyList<string> arguments, WorkFolder work, string name, PdfRenderOptions options,
        CancellationToken deadline, CancellationToken caller)
    {
        string path = Find(tool) ?? throw new PdfRejectedException(name, PdfRejection.RendererMissing,
            $"{tool} is not installed; PDFs need Debian's poppler-utils (apt-get install poppler-utils).");
        string? prlimit = Find("prlimit");
        var start = new ProcessStartInfo(prlimit ?? path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (prlimit is not null)
        {
            start.ArgumentList.Add($"--as={options.MaxRendererBytes}");
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(path);
        }
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start) ?? throw new PdfRejectedException(name, PdfRejection.RendererMissing, $"{tool} could not be started.");
        Task<string> output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        Task<string> error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            caller.ThrowIfCancellationRequested();
            throw new PdfRejectedException(name, PdfRejection.Timeout, $"rendering took longer than the limit of {options.Timeout.TotalSeconds:0.###} s.");
        }
        string stdout = await output.ConfigureAwait(false), stderr = await error.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            string reason = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? $"exit code {process.ExitCode}";
            // The renderer names the temporary copy; clients see only the document's own name.
            reason = reason.Replace(work.Document, name, StringComparison.Ordinal).Replace(work.Path, "", StringComparison.Ordinal);
            throw new PdfRejectedException(name, PdfRejection.Corrupt, $"the PDF cannot be read ({tool}: {reason}).");
        }
        return stdout;
    }

    private static CancellationTokenSource Deadline(PdfRenderOptions options, CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        return deadline;
    }

    private static string? Find(string tool) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);

    [GeneratedRegex(@"^Page\s+(\d+)\s+size:\s+([\d.]+)\s+x\s+([\d.]+)\s+pts", RegexOptions.Multiline)]
    private static partial Regex PageSize();

    [GeneratedRegex(@"-(\d+)\.png$")]
    private static partial Regex PageNumber();

    /// <summary>A private temporary folder holding the document; removed with everything the renderer wrote.</summary>
    private sealed class WorkFolder : IDisposable
    {
        public WorkFolder(ReadOnlyMemory<byte> pdf)
        {
            Path = Directory.CreateTempSubdirectory("webssl-pdf-").FullName;
            Document = System.IO.Path.Combine(Path, "document.pdf");
            using FileStream file = File.Create(Document);
            file.Write(pdf.Span);
        }

        public string Path { get; }

        public string Document { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // best effort: the system's temporary folder is cleaned anyway
            }
        }
    }
}
