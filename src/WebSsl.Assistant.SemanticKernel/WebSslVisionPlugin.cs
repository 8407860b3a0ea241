using System.ComponentModel;
using Microsoft.SemanticKernel;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.SemanticKernel;

/// <summary>
/// Kernel functions any Semantic Kernel agent can call to look at images and documents. The <c>image</c> argument is a
/// file path (an image or a PDF, whose pages are read: all, or <c>pages</c>) or the id of a stored image — never image
/// data in the prompt.
/// </summary>
public sealed class WebSslVisionPlugin(AssistantHost host, IImageStore store)
{
    private const string PagesDescription = "For a PDF: the pages to read, N or N-M (default: all)";

    [KernelFunction("ask_about_image")]
    [Description("Answers a question about an image (a chart, a scan, a photo of a document).")]
    public Task<string> AskAboutImageAsync(
        [Description("Path of the image or PDF file, or the id of a stored image")] string image,
        [Description("The question about the image")] string question,
        [Description(PagesDescription)] string? pages = null,
        CancellationToken cancellationToken = default) =>
        AnswerAsync(image, pages, question, AssistantTask.General, cancellationToken);

    [KernelFunction("extract_text")]
    [Description("Reads all the text in an image, keeping the reading order.")]
    public Task<string> ExtractTextAsync(
        [Description("Path of the image or PDF file, or the id of a stored image")] string image,
        [Description(PagesDescription)] string? pages = null,
        CancellationToken cancellationToken = default) =>
        AnswerAsync(image, pages, "", AssistantTask.Ocr, cancellationToken);

    [KernelFunction("read_chart")]
    [Description("Answers a question about a chart: a value, a label, the largest or smallest item.")]
    public Task<string> ReadChartAsync(
        [Description("Path of the chart image file, or the id of a stored image")] string image,
        [Description("The question about the chart")] string question,
        [Description(PagesDescription)] string? pages = null,
        CancellationToken cancellationToken = default) =>
        AnswerAsync(image, pages, question, AssistantTask.Chart, cancellationToken);

    [KernelFunction("summarize_document")]
    [Description("Summarizes a document, form or receipt shown in an image.")]
    public Task<string> SummarizeDocumentAsync(
        [Description("Path of the document (an image or a PDF), or the id of a stored image")] string image,
        [Description(PagesDescription)] string? pages = null,
        CancellationToken cancellationToken = default) =>
        AnswerAsync(image, pages, "", AssistantTask.Document, cancellationToken);

    private async Task<string> AnswerAsync(string image, string? pages, string question, AssistantTask task, CancellationToken cancellationToken)
    {
        VisionAssistant assistant = await host.GetAsync(cancellationToken).ConfigureAwait(false);
        IReadOnlyList<AssistantImage> images = await ResolveAsync(assistant, image, PageRange.Parse(pages, "pages"), cancellationToken).ConfigureAwait(false);
        using AssistantSession session = assistant.CreateSession(task);
        AssistantAnswer answer = await session.AnswerAsync(new AssistantQuestion(question) { Images = images }, cancellationToken).ConfigureAwait(false);
        return answer.Text.Trim();
    }

    private async Task<IReadOnlyList<AssistantImage>> ResolveAsync(VisionAssistant assistant, string image, PageRange? pages, CancellationToken cancellationToken)
    {
        if (File.Exists(image))
        {
            byte[] bytes = await File.ReadAllBytesAsync(image, cancellationToken).ConfigureAwait(false);
            return await assistant.LoadForQuestionAsync(bytes, Path.GetFileName(image), pages, cancellationToken).ConfigureAwait(false);
        }
        if (store.TryGet(image.Trim(), out AssistantImage stored))
        {
            return [stored];
        }
        throw new BadInputException($"image '{image}' is neither an existing file nor the id of a stored image.");
    }
}
