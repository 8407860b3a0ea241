using System.ComponentModel;
using Microsoft.SemanticKernel;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.SemanticKernel;

/// <summary>
/// Kernel functions any Semantic Kernel agent can call to look at images. The <c>image</c> argument is a file path or the
/// id of a stored image — never image data in the prompt.
/// </summary>
public sealed class WebSslVisionPlugin(AssistantHost host, IImageStore store)
{
    [KernelFunction("ask_about_image")]
    [Description("Answers a question about an image (a chart, a scan, a photo of a document).")]
    public Task<string> AskAboutImageAsync(
        [Description("Path of the image file, or the id of a stored image")] string image,
        [Description("The question about the image")] string question,
        CancellationToken cancellationToken = default) =>
        AnswerAsync(image, question, AssistantTask.General, cancellationToken);

    [KernelFunction("extract_text")]
    [Description("Reads all the text in an image, keeping the reading order.")]
    public Task<string> ExtractTextAsync(
        [Description("Path of the image file, or the id of a stored image")] string image,
        CancellationToken cancellationToken = default) =>
        AnswerAsync(image, "", AssistantTask.Ocr, cancellationToken);

    [KernelFunction("read_chart")]
    [Description("Answers a question about a chart: a value, a label, the largest or smallest item.")]
    public Task<string> ReadChartAsync(
        [Description("Path of the chart image file, or the id of a stored image")] string image,
        [Description("The question about the chart")] string question,
        CancellationToken cancellationToken = default) =>
        AnswerAsync(image, question, AssistantTask.Chart, cancellationToken);

    [KernelFunction("summarize_document")]
    [Description("Summarizes a document, form or receipt shown in an image.")]
    public Task<string> SummarizeDocumentAsync(
        [Description("Path of the document image file, or the id of a stored image")] string image,
        CancellationToken cancellationToken = default) =>
        AnswerAsync(image, "", AssistantTask.Document, cancellationToken);

    private async Task<string> AnswerAsync(string image, string question, AssistantTask task, CancellationToken cancellationToken)
    {
        VisionAssistant assistant = await host.GetAsync(cancellationToken).ConfigureAwait(false);
        using AssistantSession session = assistant.CreateSession(task);
        AssistantAnswer answer = await session.AnswerAsync(new AssistantQuestion(question) { Images = [Resolve(image)] }, cancellationToken).ConfigureAwait(false);
        return answer.Text.Trim();
    }

    private AssistantImage Resolve(string image)
    {
        if (File.Exists(image))
        {
            return AssistantImage.FromFile(image);
        }
        if (store.TryGet(image.Trim(), out AssistantImage stored))
        {
            return stored;
        }
        throw new BadInputException($"image '{image}' is neither an existing file nor the id of a stored image.");
    }
}
