using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Assistant.SemanticKernel;
using WebSsl.Assistant.Server.Chat;
using WebSsl.Assistant.Server.Telemetry;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;
using WebSsl.Vision.Documents;
using WebSsl.Vision.Images;

namespace WebSsl.Assistant.Server.Images;

/// <summary>What an upload became: its id (SHA-256 of the bytes) and what the content turned out to be.</summary>
public sealed record StoredImage(string Id, string Format, string MimeType, int Width, int Height, long Bytes, string Url)
{
    /// <summary>For a page of an uploaded PDF, its number in the document (from 1); null for an uploaded image.</summary>
    public int? Page { get; init; }
}

/// <summary>What an uploaded PDF became: one stored image per page read, in page order.</summary>
public sealed record StoredDocument(string Name, int PageCount, int Dpi, IReadOnlyList<StoredImage> Pages);

/// <summary>
/// POST /api/images (multipart field "file", or the image as the raw body) and GET /api/images/{id}. Every upload is
/// checked before it is kept: size, format by content, pixel count from the header (decompression bombs), and a full
/// decode (truncated or corrupt data); a refusal is a 4xx problem naming the rule, and the server carries on.
/// A PDF is rendered (pages ?pages=N or N-M, default all within the renderer's page limit) at the resolution chosen for
/// the loaded reader (or ?dpi=), and each page is stored as an image: the answer is a <see cref="StoredDocument"/>.
/// </summary>
public static class ImageEndpoints
{
    /// <summary>Room for multipart boundaries and headers on top of the image itself.</summary>
    private const long MultipartOverhead = 64 * 1024;

    public static void MapImageEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/images", UploadAsync).DisableAntiforgery();
        app.MapGet("/api/images/{id}", Download);
    }

    private static async Task<IResult> UploadAsync(HttpContext context, IImageStore store, AssistantHost host,
        ServerMetrics metrics, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ImageLimits limits = host.Options.ImageLimits;
        try
        {
            (byte[] bytes, string name) = await ReadUploadAsync(context, limits, cancellationToken);
            if (PdfRenderer.LooksLikePdf(bytes))
            {
                StoredDocument document = await StoreDocumentAsync(context, bytes, name, store, host, limits, cancellationToken);
                metrics.Upload("ok");
                return Results.Created(document.Pages[0].Url, document);
            }
            // The header's limits first (no decode turn spent on a refusal), then one complete decode in turn with every
            // other decode of the process, so that what is stored is known to be usable.
            ImageHeader header = ImageLoader.Inspect(bytes, name, limits);
            await host.Decodes.RunAsync(name, () =>
            {
                using Image<Rgb24> _ = ImageLoader.Load(bytes, name, limits);
                return header;
            }, cancellationToken);
            string id = store.Add(bytes, name);
            metrics.Upload("ok");
            var stored = new StoredImage(id, header.Format, header.MimeType, header.Width, header.Height, bytes.Length, $"/api/images/{id}");
            return Results.Created(stored.Url, stored);
        }
        catch (Exception e) when (e is ImageRejectedException or RequestRefusedException or ImageDecodeBusyException or PdfRejectedException or BadInputException)
        {
            Failures.Failure failure = Failures.Describe(e);
            metrics.Upload(failure.Code);
            if (failure.Code == "busy")
            {
                context.Response.Headers.RetryAfter = "1";
            }
            return Failures.Problem(failure, "image refused");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            metrics.Upload("too-large");
            return TooLarge(limits);
        }
        catch (InvalidDataException e)
        {
            // The multipart reader's own limits (body length, header size) and malformed multipart bodies.
            metrics.Upload("bad-request");
            bool tooLong = e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase);
            return tooLong ? TooLarge(limits) : Failures.Problem(Failures.Of(ProblemKind.BadInput, "bad-request", $"the upload is not valid multipart/form-data: {e.Message}"), "upload refused");
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
        {
            loggers.CreateLogger(typeof(ImageEndpoints)).LogInformation("Upload aborted by the client: {Message}", e.Message);
            metrics.Upload("aborted");
            return Failures.Problem(Failures.Of(ProblemKind.BadInput, "bad-request", $"the upload ended early: {e.Message}"), "upload refused");
        }
    }

    /// <summary>
    /// Renders the asked pages in one decode turn (a render is the heaviest decode there is), then checks and stores each
    /// page as an uploaded image would be; nothing is stored unless every page is usable.
    /// </summary>
    private static async Task<StoredDocument> StoreDocumentAsync(HttpContext context, byte[] bytes, string name, IImageStore store, AssistantHost host,
        ImageLimits limits, CancellationToken cancellationToken)
    {
        PageRange? pages = PageRange.Parse(context.Request.Query["pages"].FirstOrDefault(), "pages");
        int? dpi = Dpi(context.Request.Query["dpi"].FirstOrDefault());
        VisionAssistant assistant = await host.GetAsync(cancellationToken);
        PdfRenderOptions render = assistant.DocumentRendering with { Dpi = dpi };
        IReadOnlyList<RenderedPage> rendered = await host.Decodes.RunAsync(name,
            () => PdfRenderer.RenderAsync(bytes, name, pages?.First, pages?.Last, render, cancellationToken), cancellationToken);
        var headers = rendered.Select(page => (page, header: ImageLoader.Inspect(page.Png, $"{name} page {page.Number}", limits))).ToList();
        List<StoredImage> stored = headers.Select(p =>
        {
            string id = store.Add(p.page.Png, $"{name} page {p.page.Number}");
            return new StoredImage(id, p.header.Format, p.header.MimeType, p.header.Width, p.header.Height, p.page.Png.Length, $"/api/images/{id}") { Page = p.page.Number };
        }).ToList();
        return new StoredDocument(name, rendered[0].DocumentPages, rendered[0].Dpi, stored);
    }

    private static int? Dpi(string? text) =>
        string.IsNullOrEmpty(text) ? null
        : int.TryParse(text, out int dpi) && dpi is >= PdfRenderOptions.MinDpi and <= PdfRenderOptions.MaxDpi ? dpi
        : throw new RequestRefusedException(ProblemKind.BadInput, "bad-request", $"dpi '{text}': give a resolution from {PdfRenderOptions.MinDpi} to {PdfRenderOptions.MaxDpi}.");

    private static async Task<(byte[] Bytes, string Name)> ReadUploadAsync(HttpContext context, ImageLimits limits, CancellationToken cancellationToken)
    {
        HttpRequest request = context.Request;
        long allowed = limits.MaxBytes + (request.HasFormContentType ? MultipartOverhead : 0);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = allowed;
        }
        if (request.ContentLength > allowed)
        {
            throw new ImageRejectedException("upload", ImageRejection.TooManyBytes, $"{request.ContentLength} bytes is over the limit of {limits.MaxBytes} bytes per image.");
        }
        if (request.HasFormContentType)
        {
            context.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions { MultipartBodyLengthLimit = allowed, ValueCountLimit = 16 }));
            IFormCollection form = await request.ReadFormAsync(cancellationToken);
            IFormFile file = form.Files.GetFile("file")
                ?? throw new RequestRefusedException(ProblemKind.BadInput, "bad-request", "a multipart upload needs the image in a field named 'file'.");
            if (file.Length > limits.MaxBytes)
            {
                throw new ImageRejectedException(file.FileName, ImageRejection.TooManyBytes, $"{file.Length} bytes is over the limit of {limits.MaxBytes} bytes per image.");
            }
            using var buffer = new MemoryStream((int)file.Length);
            await file.CopyToAsync(buffer, cancellationToken);
            return (buffer.ToArray(), string.IsNullOrWhiteSpace(file.FileName) ? "upload" : Path.GetFileName(file.FileName));
        }
        using var body = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (body.Length + read > limits.MaxBytes)
            {
                throw new ImageRejectedException("upload", ImageRejection.TooManyBytes, $"the body is over the limit of {limits.MaxBytes} bytes per image.");
            }
            body.Write(chunk, 0, read);
        }
        string name = request.Headers["X-File-Name"].FirstOrDefault() is { Length: > 0 } given ? Path.GetFileName(given) : "upload";
        return (body.ToArray(), name);
    }

    private static IResult TooLarge(ImageLimits limits) =>
        Failures.Problem(Failures.Of(ProblemKind.TooLarge, "image-rejected", $"upload: the body is over the limit of {limits.MaxBytes} bytes per image."), "image refused");

    private static IResult Download(string id, HttpContext context, IImageStore store)
    {
        if (!store.TryGet(id, out AssistantImage image))
        {
            return Failures.Problem(Failures.Of(ProblemKind.NotFound, "image-not-found", $"image '{id}' is not stored here."));
        }
        string mime = ImageLoader.Inspect(image.Bytes.Span, id).MimeType;
        context.Response.Headers.CacheControl = "private, max-age=31536000, immutable";
        return Results.Bytes(image.Bytes, mime, entityTag: new EntityTagHeaderValue($"\"{id}\""));
    }
}
