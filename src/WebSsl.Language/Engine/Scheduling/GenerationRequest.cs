using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using LLama;
using LLama.Sampling;
using WebSsl.Language.Engine.Sampling;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Engine.Scheduling;

/// <summary>
/// One generation in flight: its prompt and progress through it, the tokens it generated, the text it streamed (through
/// the UTF-8 decoder and the stop strings), and the channel its reader takes chunks from.
/// </summary>
internal sealed class GenerationRequest : IDisposable
{
    public GenerationRequest(EngineSession session, Prompt prompt, SamplingOptions sampling, CancellationTokenSource cancellation)
    {
        Session = session;
        Prompt = prompt;
        Items = prompt.Items().ToList();
        Sampling = sampling;
        Cancellation = cancellation;
        Stops = new StopStringFilter(sampling.Stop);
        Decoder = new StreamingTokenDecoder(Encoding.UTF8, session.Engine.Model.Weights);
        Chain = TokenSampler.ChainFor(sampling);
    }

    public EngineSession Session { get; }
    public Prompt Prompt { get; }
    public List<PromptItem> Items { get; }
    public SamplingOptions Sampling { get; }
    public CancellationTokenSource Cancellation { get; }
    public Channel<GenerationChunk> Output { get; } = Channel.CreateUnbounded<GenerationChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    public StopStringFilter Stops { get; }
    public StreamingTokenDecoder Decoder { get; }

    /// <summary>llama.cpp's sampler chain for this request's settings (unused by plain greedy decoding).</summary>
    public DefaultSamplingPipeline Chain { get; }
    public Stopwatch Clock { get; } = Stopwatch.StartNew();
    public List<int> Generated { get; } = [];
    public StringBuilder Text { get; } = new();
    public KvSlot? Slot { get; set; }

    /// <summary>The next prompt position to decode; the prompt is read when it reaches <see cref="Items"/>' count.</summary>
    public int Position { get; set; }
    public bool ReadingPrompt => Position < Items.Count;
    public int CachedPromptTokens { get; set; }

    /// <summary>The token sampled last, to be decoded in the next step.</summary>
    public int? NextToken { get; set; }
    public TimeSpan Admitted { get; set; }
    public TimeSpan? PrefillDone { get; set; }
    public TimeSpan? FirstToken { get; set; }
    public volatile bool Finished;
    public int CapacityReleased;

    /// <summary>
    /// Takes a sampled token: streams its text, and says why the generation ends with it (end of generation, a stop
    /// string, the length limit or a full session), or null when it goes on.
    /// </summary>
    public FinishReason? Accept(int token, bool endOfGeneration, int maxSessionTokens)
    {
        FirstToken ??= Clock.Elapsed;
        if (endOfGeneration && !Sampling.IgnoreEndOfGeneration)
        {
            return FinishReason.EndOfGeneration;
        }
        Generated.Add(token);
        Decoder.Add(token);
        string text = Stops.Push(Decoder.Read());
        if (text.Length > 0)
        {
            Text.Append(text);
            Output.Writer.TryWrite(new GenerationChunk(text));
        }
        if (Stops.Stopped)
        {
            return FinishReason.StopString;
        }
        if (Generated.Count >= Sampling.MaxTokens || Slot!.Cached.Count + 1 >= maxSessionTokens)
        {
            return FinishReason.Length;
        }
        NextToken = token;
        return null;
    }

    /// <summary>Streams the held-back tail and the result with its usage.</summary>
    public void WriteResult(FinishReason reason)
    {
        string tail = Stops.Flush();
        Text.Append(tail);
        TimeSpan end = Clock.Elapsed;
        var usage = new GenerationUsage
        {
            PromptTokens = Prompt.Length,
            ImageTokens = Prompt.ImageTokens,
            CachedPromptTokens = CachedPromptTokens,
            GeneratedTokens = Generated.Count,
            QueueTime = Admitted,
            PrefillTime = (PrefillDone ?? end) - Admitted,
            FirstTokenLatency = FirstToken ?? end,
            GenerationTime = end - (FirstToken ?? end),
        };
        Output.Writer.TryWrite(new GenerationChunk(tail, new GenerationResult(Text.ToString(), reason, Generated.ToList(), usage)));
    }

    public void Dispose() => Chain.Dispose();
}
