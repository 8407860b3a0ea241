using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using WebSsl.Assistant.SemanticKernel;
using WebSsl.Assistant.Server.OpenAi;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.Server.Hosting;

/// <summary>GET /health (503 while the models load or when they failed, 200 when ready) and GET /api/info for the browser app.</summary>
public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", (ModelLoader loader, AssistantHost host) => loader.State switch
        {
            ModelState.Ready => Results.Ok(new { status = "ready", model = host.GetAsync().Result.Description, loadSeconds = loader.LoadTime?.TotalSeconds }),
            ModelState.Failed => Results.Json(new { status = "failed", error = loader.Error }, statusCode: StatusCodes.Status503ServiceUnavailable),
            _ => Results.Json(new { status = "loading" }, statusCode: StatusCodes.Status503ServiceUnavailable),
        });
        app.MapGet("/api/info", (HttpContext context, ModelLoader loader, AssistantHost host, IOptions<ServerOptions> server) =>
        {
            AssistantOptions options = host.Options;
            return Results.Ok(new
            {
                status = loader.State.ToString().ToLowerInvariant(),
                error = loader.Error,
                model = OpenAiEndpoints.ModelId(context.RequestServices),
                description = loader.State == ModelState.Ready ? host.GetAsync().Result.Description : null,
                notice = server.Value.ModelNotice,
                tasks = Enum.GetNames<AssistantTask>().Select(t => t.ToLowerInvariant()),
                maxImagesPerQuestion = options.MaxImagesPerTurn,
                pdf = Vision.Documents.PdfRenderer.IsAvailable,
                maxImageBytes = options.ImageLimits.MaxBytes,
                maxAnswerTokens = options.MaxAnswerTokens,
                defaultAnswerTokens = VisionAssistant.DefaultSampling.MaxTokens,
            });
        });
    }
}
