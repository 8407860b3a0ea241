using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;
using WebSsl.Vision.Images;

namespace WebSsl.Assistant.Server.Examples;

/// <summary>An example question the browser app offers: a stored image, the question, and its known (ground truth) answer.</summary>
public sealed record Example(string ImageId, string Question, string Answer, string Category);

/// <summary>
/// The examples of <see cref="ServerOptions.ExamplesFile"/>, read once: each image is checked as an upload would be
/// and put in the image store, so the page refers to it by id like any other image. A broken file is logged and gives
/// no examples; the server serves on.
/// </summary>
public sealed class ExampleCatalog(IOptions<ServerOptions> options, IImageStore images, ILogger<ExampleCatalog> logger)
{
    private readonly Lazy<IReadOnlyList<Example>> _examples = new(() => Load(options.Value.ExamplesFile, images, logger));

    public IReadOnlyList<Example> Examples => _examples.Value;

    private sealed record Entry([property: JsonPropertyName("image")] string Image, [property: JsonPropertyName("question")] string Question,
        [property: JsonPropertyName("answer")] string Answer, [property: JsonPropertyName("category")] string Category);

    private static IReadOnlyList<Example> Load(string? file, IImageStore images, ILogger logger)
    {
        if (file is null)
        {
            return [];
        }
        try
        {
            string folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
            var entries = JsonSerializer.Deserialize<List<Entry>>(File.ReadAllText(file)) ?? [];
            return entries.Select(e =>
            {
                string path = Path.GetFullPath(Path.Combine(folder, e.Image));
                if (!path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"example image '{e.Image}' is outside {folder}.");
                }
                byte[] bytes = File.ReadAllBytes(path);
                ImageLoader.Inspect(bytes, e.Image);
                return new Example(images.Add(bytes, Path.GetFileName(path)), e.Question, e.Answer, e.Category);
            }).ToList();
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidDataException or ImageRejectedException or UnauthorizedAccessException)
        {
            logger.LogWarning("The examples in {File} cannot be offered: {Message}", file, e.Message);
            return [];
        }
    }
}

public static class ExampleEndpoints
{
    /// <summary>GET /api/examples: [{ imageId, question, answer, category }], empty when the server has none.</summary>
    public static void MapExampleEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/examples", (ExampleCatalog catalog) => Results.Ok(catalog.Examples));
}
