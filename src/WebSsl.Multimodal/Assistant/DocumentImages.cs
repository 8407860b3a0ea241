using WebSsl.Vision.Documents;

namespace WebSsl.Multimodal.Assistant;

/// <summary>Pages of a document, counted from 1: one page ("3") or a range ("2-5").</summary>
public readonly record struct PageRange(int First, int Last)
{
    /// <summary>"3" or "2-5"; null or empty for every page.</summary>
    /// <param name="field">What the text was given as (the CLI's "--pages", a form field), named in the refusal.</param>
    public static PageRange? Parse(string? text, string field = "pages")
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        string[] parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length is 1 or 2 && int.TryParse(parts[0], out int first) && int.TryParse(parts[^1], out int last) && first >= 1 && last >= first)
        {
            return new PageRange(first, last);
        }
        throw new BadInputException($"{field} '{text}': give a page (3) or a range (2-5), counting from 1.");
    }

    public override string ToString() => First == Last ? $"{First}" : $"{First}-{Last}";
}

/// <summary>
/// The one place where what a user sends becomes the assistant's images, for every surface (the CLI's --image, uploads,
/// OpenAI file parts, the chat client and the Semantic Kernel plugin): an image as it is, a PDF as its pages rendered
/// by <see cref="PdfRenderer"/> (each named "file page N"), in page order.
/// </summary>
public static class DocumentImages
{
    /// <param name="pages">For a PDF, the pages to read (null: all); ignored for an image.</param>
    /// <param name="render">How pages are rasterized (see <see cref="VisionAssistant.DocumentRendering"/> for the reader's own choice).</param>
    public static async Task<IReadOnlyList<AssistantImage>> LoadAsync(ReadOnlyMemory<byte> bytes, string name, PageRange? pages = null, PdfRenderOptions? render = null,
        CancellationToken cancellationToken = default)
    {
        if (!PdfRenderer.LooksLikePdf(bytes.Span))
        {
            return [new AssistantImage(bytes, name)]; // pages choose among a document's pages; an image is its one page
        }
        IReadOnlyList<RenderedPage> rendered = await PdfRenderer.RenderAsync(bytes, name, pages?.First, pages?.Last, render, cancellationToken).ConfigureAwait(false);
        return rendered.Select(page => new AssistantImage(page.Png, $"{name} page {page.Number}")).ToList();
    }

    /// <summary>Every file in order, PDFs expanded to their pages.</summary>
    public static async Task<List<AssistantImage>> LoadFilesAsync(IEnumerable<string> paths, PageRange? pages = null, PdfRenderOptions? render = null,
        CancellationToken cancellationToken = default)
    {
        var images = new List<AssistantImage>();
        foreach (string path in paths)
        {
            byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            images.AddRange(await LoadAsync(bytes, Path.GetFileName(path), pages, render, cancellationToken).ConfigureAwait(false));
        }
        return images;
    }
}
