using System.Diagnostics.Metrics;
using WebSsl.Assistant.SemanticKernel;
using WebSsl.Multimodal.Assistant;
using WebSsl.Multimodal.Hosting;

namespace WebSsl.Assistant.Server.Telemetry;

/// <summary>
/// The server's OpenTelemetry instruments (meter "WebSsl.Assistant.Server"), exported in Prometheus format at /metrics:
/// requests by surface and outcome, queue depth and active generations, generated tokens, tokens/s, first-token latency
/// and encoder time.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "WebSsl.Assistant.Server";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _generatedTokens;
    private readonly Histogram<double> _tokensPerSecond;
    private readonly Histogram<double> _firstToken;
    private readonly Histogram<double> _encoder;
    private readonly Counter<long> _uploads;

    public ServerMetrics(IMeterFactory meters, AssistantHost host)
    {
        _meter = meters.Create(MeterName);
        _requests = _meter.CreateCounter<long>("webssl.requests", "{request}", "Questions answered (or refused), by surface (hub, openai) and outcome.");
        _uploads = _meter.CreateCounter<long>("webssl.uploads", "{upload}", "Image uploads, by outcome.");
        _generatedTokens = _meter.CreateCounter<long>("webssl.generated_tokens", "{token}", "Tokens generated.");
        _tokensPerSecond = _meter.CreateHistogram<double>("webssl.generation.tokens_per_second", "{token}/s", "Decode speed of each answer.");
        _firstToken = _meter.CreateHistogram<double>("webssl.first_token.duration", "s", "From the question to the first answer token (image encoding included).");
        _encoder = _meter.CreateHistogram<double>("webssl.encoder.duration", "s", "Image decode + preprocess + encoder + projector, per image not found in the cache.");
        _meter.CreateObservableGauge("webssl.queue.depth", () => Statistic(host, s => s.Waiting), "{request}", "Questions waiting for a generation slot.");
        _meter.CreateObservableGauge("webssl.generating", () => Statistic(host, s => s.Generating), "{request}", "Answers being generated now.");
        _meter.CreateObservableGauge("webssl.model.loaded", () => host.IsLoaded ? 1 : 0, null, "1 once the models are loaded.");
    }

    public void Request(string surface, string outcome) =>
        _requests.Add(1, new KeyValuePair<string, object?>("surface", surface), new KeyValuePair<string, object?>("outcome", outcome));

    public void Upload(string outcome) => _uploads.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Answer(AssistantAnswer answer)
    {
        _generatedTokens.Add(answer.Metrics.GeneratedTokens);
        if (answer.Metrics.TokensPerSecond > 0)
        {
            _tokensPerSecond.Record(answer.Metrics.TokensPerSecond);
        }
        _firstToken.Record(answer.Metrics.FirstTokenMilliseconds / 1000);
        foreach (ImageReport image in answer.Images.Where(i => !i.FromCache))
        {
            _encoder.Record(image.EncodeMilliseconds / 1000);
        }
    }

    private static int Statistic(AssistantHost host, Func<Language.Engine.EngineStatistics, int> select) =>
        host.IsLoaded && host.GetAsync().Result is { } assistant ? select(assistant.Engine.Statistics) : 0;

    public void Dispose() => _meter.Dispose();
}
