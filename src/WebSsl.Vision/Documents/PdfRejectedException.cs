namespace WebSsl.Vision.Documents;

/// <summary>Why a PDF was refused. Servers map these to 4xx responses (or, for a missing renderer, to the operator).</summary>
public enum PdfRejection
{
    /// <summary>Not a PDF, or damaged beyond what the renderer reads.</summary>
    Corrupt,

    /// <summary>Encrypted: it needs a password this program does not have.</summary>
    Encrypted,

    /// <summary>It has no pages.</summary>
    NoPages,

    /// <summary>More pages than the limit.</summary>
    Pages,

    /// <summary>A page range outside the document.</summary>
    NoSuchPage,

    /// <summary>A page that would be more pixels than the limit at the chosen resolution.</summary>
    PageTooLarge,

    /// <summary>The renderer took longer than the limit.</summary>
    Timeout,

    /// <summary>Debian's poppler-utils (pdfinfo, pdftoppm) is not installed.</summary>
    RendererMissing,
}

/// <summary>A PDF that was refused, naming the document, the rule and the numbers involved.</summary>
public sealed class PdfRejectedException(string source, PdfRejection reason, string detail, Exception? inner = null)
    : WebSslException(KindOf(reason), reason == PdfRejection.RendererMissing ? "pdf-renderer-missing" : "pdf-rejected", $"{source}: {detail}", inner)
{
    public PdfRejection Reason { get; } = reason;

    private static ProblemKind KindOf(PdfRejection reason) => reason switch
    {
        PdfRejection.Encrypted => ProblemKind.Unsupported,
        PdfRejection.NoSuchPage => ProblemKind.BadInput,
        PdfRejection.Pages or PdfRejection.PageTooLarge => ProblemKind.TooLarge,
        PdfRejection.RendererMissing => ProblemKind.Configuration,
        _ => ProblemKind.Unprocessable,
    };
}
