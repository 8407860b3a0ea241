using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Engine;

/// <summary>Counters for monitoring and tests.</summary>
public sealed record EngineStatistics(long DecodedPositions, long DecodeCalls, int Generating, int Waiting, int ResidentSessions);

/// <summary>
/// Serves many conversations from one llama.cpp context with continuous batching: a single scheduler thread owns the
/// context; every step it decodes one prompt chunk for each request still reading its prompt and one token for every request
/// that is generating, all sessions' next tokens in one batch. Each session is a llama.cpp sequence whose KV cache is kept
/// between requests and reused up to the first position where a new prompt differs. Requests beyond the slots wait in a
/// bounded queue; beyond that they are refused at once. Cancelling a stream (or abandoning its enumeration) stops its
/// generation within one step and frees its slot.
/// </summary>
public sealed class LanguageEngine : IDisposable
{
    private readonly LLamaContext _context;
    private readonly Slot[] _slots;
    private readonly int _scratchSequence;
    private readonly ConcurrentQueue<Request> _incoming = new();
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly List<Request> _waiting = [];
    private readonly List<Request> _active = [];
    private readonly Thread _loop;
    private readonly CancellationTokenSource _shutdown = new();
    private long _sessionIds;
    private long _decodedPositions;
    private long _decodeCalls;
    private int _pendingRequests; // submitted and not finished: waiting + active
    private int _generating;
    private long _clock;

    private readonly bool[] _endOfGeneration;
    private readonly LLamaBatch _stepBatch = new();

    private LanguageEngine(LanguageModel model, EngineOptions options, LLamaContext context)
    {
        Model = model;
        Options = options;
        _context = context;
        _endOfGeneration = Enumerable.Range(0, model.VocabularySize).Select(model.IsEndOfGeneration).ToArray();
        _slots = Enumerable.Range(0, options.MaxSessions).Select(i => new Slot(i)).ToArray();
        _scratchSequence = options.MaxSessions;
        _loop = new Thread(Run) { IsBackground = true, Name = "webssl-llama-scheduler" };
        _loop.Start();
    }

    public LanguageModel Model { get; }

    public EngineOptions Options { get; }

    public EngineStatistics Statistics => new(Interlocked.Read(ref _decodedPositions), Interlocked.Read(ref _decodeCalls), Volatile.Read(ref _generating),
        Math.Max(0, Volatile.Read(ref _pendingRequests) - Volatile.Read(ref _generating)), _slots.Count(s => s.Owner is not null));

    public static LanguageEngine Create(LanguageModel model, EngineOptions? options = null)
    {
        options ??= new EngineOptions();
        options.Validate();
        var parameters = new ModelParams(model.Path)
        {
            ContextSize = (uint)options.ContextSize,
            BatchSize = (uint)options.BatchSize,
            UBatchSize = (uint)options.BatchSize,
            SeqMax = (uint)options.MaxSessions + 1, // + one scratch sequence for logits requests
            KVUnified = true,
            Threads = options.Threads,
            BatchThreads = options.Threads,
            FlashAttention = options.ExactAttention ? false : null,
            TypeK = options.ExactAttention ? GGMLType.GGML_TYPE_F32 : null,
            TypeV = options.ExactAttention ? GGMLType.GGML_TYPE_F32 : null,
        };
        LLamaContext context = model.Weights.CreateContext(parameters);
        return new LanguageEngine(model, options, context);
    }

    public ChatSession CreateSession() => new(this, Interlocked.Increment(ref _sessionIds));

    /// <summary>
    /// Streams the continuation of <paramref name="prompt"/> in <paramref name="session"/>. Throws at once (not when
    /// enumerated) for a full queue, an over-long prompt, or a session that is already generating.
    /// </summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(ChatSession session, Prompt prompt, SamplingOptions sampling,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        if (session.Engine != this || session.IsDisposed)
        {
            throw new ArgumentException("the session is disposed or belongs to another engine.", nameof(session));
        }
        sampling.Validate();
        ValidatePrompt(prompt);
        var request = new Request(session, prompt, sampling, CancellationTokenSource.CreateLinkedTokenSource(cancellationToken));
        lock (session)
        {
            // A cancelled request may still be finishing on the scheduler; the new one simply waits for it.
            if (session.Current is Request current && !current.Finished && !current.Cancellation.IsCancellationRequested)
            {
                request.Dispose();
                throw new InvalidOperationException($"session {session.Id} is already generating; one request per session at a time.");
            }
            int pending = Interlocked.Increment(ref _pendingRequests);
            if (pending > Options.MaxSessions + Options.MaxQueue)
            {
                Interlocked.Decrement(ref _pendingRequests);
                request.Dispose();
                throw new EngineBusyException(
                    $"the engine is busy: {Options.MaxSessions} conversations generating and {Options.MaxQueue} waiting (the queue limit). Try again shortly.");
            }
            session.Current = request;
        }
        // A cancelled request gives its place in the queue back at once; its slot follows within one scheduler step.
        request.Cancellation.Token.Register(() => ReleaseCapacity(request));
        _incoming.Enqueue(request);
        _wake.Release();
        return Read(request, request.Cancellation.Token);
    }

    /// <summary>Generates to the end and returns the whole result.</summary>
    public async Task<GenerationResult> CompleteAsync(ChatSession session, Prompt prompt, SamplingOptions sampling, CancellationToken cancellationToken = default)
    {
        GenerationResult? result = null;
        await foreach (GenerationChunk chunk in GenerateAsync(session, prompt, sampling, cancellationToken))
        {
            result = chunk.Final ?? result;
        }
        return result ?? throw new InvalidOperationException("the generation ended without a result.");
    }

    /// <summary>
    /// The logits of every position of <paramref name="prompt"/> ([positions][vocabulary]), computed from scratch in a
    /// sequence of its own (no session cache involved). Used to check numerics against other implementations.
    /// </summary>
    public Task<float[][]> ComputeLogitsAsync(Prompt prompt, CancellationToken cancellationToken = default)
    {
        ValidatePrompt(prompt);
        var completion = new TaskCompletionSource<float[][]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _commands.Enqueue(() =>
        {
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                completion.SetResult(ScratchLogits(prompt));
            }
            catch (Exception e)
            {
                completion.SetException(e);
            }
        });
        _wake.Release();
        return completion.Task;
    }

    internal int CachedTokens(ChatSession session)
    {
        int slot = session.Slot;
        return slot >= 0 && _slots[slot].Owner == session ? _slots[slot].Cached.Count : 0;
    }

    internal void Release(ChatSession session)
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }
        _commands.Enqueue(() =>
        {
            if (session.Slot >= 0 && _slots[session.Slot].Owner == session && _slots[session.Slot].Active is null)
            {
                Evict(_slots[session.Slot]);
            }
        });
        _wake.Release();
    }

    private void ValidatePrompt(Prompt prompt)
    {
        if (prompt.Length == 0)
        {
            throw new ArgumentException("the prompt is empty.");
        }
        if (prompt.Length >= Options.MaxSessionTokens)
        {
            throw new PromptTooLongException(
                $"the prompt has {prompt.Length} positions ({prompt.ImageTokens} of them image tokens); a session holds at most {Options.MaxSessionTokens}, answer included.");
        }
        foreach (EmbeddingSegment image in prompt.Segments.OfType<EmbeddingSegment>())
        {
            if (image.Image.Width != Model.EmbeddingSize)
            {
                throw new ArgumentException(
                    $"an image embedding has width {image.Image.Width}, but {Model.Name} has n_embd {Model.EmbeddingSize}: the projector does not match this LLM.");
            }
        }
    }

    private static async IAsyncEnumerable<GenerationChunk> Read(Request request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            while (await request.Output.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (request.Output.Reader.TryRead(out GenerationChunk? chunk))
                {
                    yield return chunk;
                }
            }
        }
        finally
        {
            // An abandoned enumeration (client gone, loop broken) cancels the work; the scheduler frees the slot.
            if (!request.Finished)
            {
                request.Cancellation.Cancel();
            }
        }
    }

    // ---------------------------------------------------------------- scheduler thread only below this line

    private void Run()
    {
        while (!_shutdown.IsCancellationRequested)
        {
            try
            {
                while (_commands.TryDequeue(out Action? command))
                {
                    command();
                }
                while (_incoming.TryDequeue(out Request? request))
                {
                    _waiting.Add(request);
                }
                DropCancelled();
                Admit();
                if (_active.Count == 0)
                {
                    _wake.Wait(_shutdown.Token);
                    continue;
                }
                Prefill();
                GenerateOneToken();
            }
            catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // A failure of the native side fails the requests in flight; the engine keeps serving new ones.
                foreach (Request request in _active.ToList())
                {
                    Fail(request, e);
                }
            }
        }
        foreach (Request request in _waiting.Concat(_active).ToList())
        {
            Fail(request, new ObjectDisposedException(nameof(LanguageEngine)));
        }
        while (_incoming.TryDequeue(out Request? late))
        {
            Fail(late, new ObjectDisposedException(nameof(LanguageEngine)));
        }
    }

    private void DropCancelled()
    {
        foreach (Request request in _waiting.Concat(_active).Where(r => r.Cancellation.IsCancellationRequested).ToList())
        {
            Fail(request, new OperationCanceledException(request.Cancellation.Token));
        }
    }

    /// <summary>Gives waiting requests a slot: their session's own (cache kept), a free one, or the least recently used idle one.</summary>
    private void Admit()
    {
        while (_active.Count < _slots.Length)
        {
            // First in, first served, except that a session's new request waits for its previous one to finish.
            Request? request = _waiting.FirstOrDefault(w => _active.All(a => a.Session != w.Session));
            if (request is null)
            {
                return;
            }
            Slot? slot = request.Session.Slot >= 0 && _slots[request.Session.Slot].Owner == request.Session
                ? _slots[request.Session.Slot]
                : _slots.FirstOrDefault(s => s.Owner is null) ?? _slots.Where(s => s.Active is null).MinBy(s => s.LastUsed);
            if (slot is null)
            {
                return;
            }
            _waiting.Remove(request);
            if (slot.Owner != request.Session)
            {
                Evict(slot);
                slot.Owner = request.Session;
                request.Session.Slot = slot.Index;
            }
            slot.Active = request;
            request.Slot = slot;
            request.Admitted = request.Clock.Elapsed;
            _active.Add(request);
            Interlocked.Increment(ref _generating);

            // Reuse the cached prefix; the last prompt position is always decoded again so that its logits exist.
            int common = 0;
            int limit = Math.Min(slot.Cached.Count, request.Items.Count - 1);
            while (common < limit && slot.Cached[common].SameAs(request.Items[common]))
            {
                common++;
            }
            if (common < slot.Cached.Count)
            {
                _context.NativeHandle.MemorySequenceRemove((LLamaSeqId)slot.Index, common, -1);
                slot.Cached.RemoveRange(common, slot.Cached.Count - common);
            }
            request.Position = common;
            request.CachedPromptTokens = common;
        }
    }

    /// <summary>Decodes one chunk (tokens or one image's rows, at most a batch) of every request still reading its prompt.</summary>
    private void Prefill()
    {
        foreach (Request request in _active.Where(r => r.Position < r.Items.Count).ToList())
        {
            List<PromptItem> items = request.Items;
            int start = request.Position;
            bool tokens = items[start].IsToken;
            int end = start;
            while (end < items.Count && end - start < Options.BatchSize && items[end].IsToken == tokens
                   && (tokens || items[end].Image == items[start].Image))
            {
                end++;
            }
            bool last = end == items.Count;
            int logitsIndex = DecodeRun(items, start, end, request.Slot!.Index, logitsForLast: last, logitsForAll: false, collect: null);
            if (logitsIndex == int.MinValue)
            {
                Finish(request, FinishReason.ContextFull);
                continue;
            }
            request.Slot.Cached.AddRange(items.GetRange(start, end - start));
            request.Position = end;
            if (last)
            {
                request.PrefillDone = request.Clock.Elapsed;
                Accept(request, Sample(request, logitsIndex));
            }
        }
    }

    /// <summary>One token for every generating request, all in one batch.</summary>
    private void GenerateOneToken()
    {
        List<Request> generating = _active.Where(r => r.Position >= r.Items.Count && r.NextToken is not null).ToList();
        if (generating.Count == 0)
        {
            return;
        }
        LLamaBatch batch = _stepBatch;
        batch.Clear();
        var indices = new int[generating.Count];
        for (int i = 0; i < generating.Count; i++)
        {
            Request r = generating[i];
            indices[i] = batch.Add((LLamaToken)r.NextToken!.Value, r.Slot!.Cached.Count, (LLamaSeqId)r.Slot.Index, true);
        }
        if (!Decode(() => _context.NativeHandle.Decode(batch), () => generating.Select(r => r.Slot!).ToHashSet(), generating.Count))
        {
            foreach (Request r in generating)
            {
                Finish(r, FinishReason.ContextFull);
            }
            return;
        }
        for (int i = 0; i < generating.Count; i++)
        {
            Request r = generating[i];
            r.Slot!.Cached.Add(new PromptItem(r.NextToken!.Value, null, 0));
            r.NextToken = null;
            Accept(r, Sample(r, indices[i]));
        }
    }

    /// <summary>
    /// Greedy decoding without penalties is an argmax over the logits (first maximum, as llama.cpp's greedy sampler picks);
    /// done here directly it saves copying the whole vocabulary into a candidate array every step, which with a 150k
    /// vocabulary and eight sessions costs more than the bookkeeping of the batch. Everything else goes through
    /// llama.cpp's sampler chain.
    /// </summary>
    private LLamaToken Sample(Request request, int logitsIndex)
    {
        SamplingOptions sampling = request.Sampling;
        if (sampling.Temperature > 0 || sampling.RepetitionPenalty != 1f)
        {
            return request.Sampler.Sample(_context.NativeHandle, logitsIndex);
        }
        Span<float> logits = _context.NativeHandle.GetLogitsIth(logitsIndex);
        int best = -1;
        float bestValue = float.NegativeInfinity;
        for (int token = 0; token < logits.Length; token++)
        {
            if (logits[token] > bestValue && !(sampling.IgnoreEndOfGeneration && _endOfGeneration[token]))
            {
                bestValue = logits[token];
                best = token;
            }
        }
        return (LLamaToken)best;
    }

    /// <summary>Handles a sampled token: end of generation, text (through the UTF-8 decoder and stop strings), or length limit.</summary>
    private void Accept(Request request, LLamaToken token)
    {
        request.FirstToken ??= request.Clock.Elapsed;
        int id = (int)token;
        if (_endOfGeneration[id] && !request.Sampling.IgnoreEndOfGeneration)
        {
            Finish(request, FinishReason.EndOfGeneration);
            return;
        }
        request.Generated.Add(id);
        request.Decoder.Add(token);
        string text = request.Stops.Push(request.Decoder.Read());
        if (text.Length > 0)
        {
            request.Text.Append(text);
            request.Output.Writer.TryWrite(new GenerationChunk(text));
        }
        if (request.Stops.Stopped)
        {
            Finish(request, FinishReason.StopString);
        }
        else if (request.Generated.Count >= request.Sampling.MaxTokens || request.Slot!.Cached.Count + 1 >= Options.MaxSessionTokens)
        {
            Finish(request, FinishReason.Length);
        }
        else
        {
            request.NextToken = id;
        }
    }

    private void Finish(Request request, FinishReason reason)
    {
        string tail = request.Stops.Flush();
        request.Text.Append(tail);
        TimeSpan end = request.Clock.Elapsed;
        var usage = new GenerationUsage
        {
            PromptTokens = request.Prompt.Length,
            ImageTokens = request.Prompt.ImageTokens,
            CachedPromptTokens = request.CachedPromptTokens,
            GeneratedTokens = request.Generated.Count,
            QueueTime = request.Admitted,
            PrefillTime = (request.PrefillDone ?? end) - request.Admitted,
            FirstTokenLatency = request.FirstToken ?? end,
            GenerationTime = end - (request.FirstToken ?? end),
        };
        request.Output.Writer.TryWrite(new GenerationChunk(tail, new GenerationResult(request.Text.ToString(), reason, request.Generated.ToList(), usage)));
        Complete(request, null);
    }

    private void Fail(Request request, Exception error) => Complete(request, error);

    private void Complete(Request request, Exception? error)
    {
        if (request.Finished)
        {
            return;
        }
        request.Finished = true;
        request.Output.Writer.TryComplete(error);
        _waiting.Remove(request);
        if (_active.Remove(request))
        {
            Interlocked.Decrement(ref _generating);
        }
        if (request.Slot is { } slot)
        {
            slot.Active = null;
            slot.LastUsed = ++_clock;
            if (request.Session.IsDisposed)
            {
                Evict(slot);
            }
        }
        request.Dispose();
        lock (request.Session)
        {
            if (request.Session.Current == request)
            {
                request.Session.Current = null;
            }
        }
        ReleaseCapacity(request);
    }

    private void ReleaseCapacity(Request request)
    {
        if (Interlocked.Exchange(ref request.CapacityReleased, 1) == 0)
        {
            Interlocked.Decrement(ref _pendingRequests);
        }
    }

    private void Evict(Slot slot)
    {
        if (slot.Owner is { } owner && owner.Slot == slot.Index)
        {
            owner.Slot = -1;
        }
        slot.Owner = null;
        if (slot.Cached.Count > 0)
        {
            _context.NativeHandle.MemorySequenceRemove((LLamaSeqId)slot.Index, -1, -1);
            slot.Cached.Clear();
        }
    }

    /// <summary>
    /// Decodes items [start, end) of one sequence as one batch (tokens, or rows of one image). Returns the batch index whose
    /// logits belong to the last item, or int.MinValue when the KV cache has no room even after evicting idle sessions.
    /// </summary>
    private int DecodeRun(List<PromptItem> items, int start, int end, int sequence, bool logitsForLast, bool logitsForAll, List<float[]>? collect)
    {
        var seq = (LLamaSeqId)sequence;
        int lastIndex = -1;
        Func<DecodeResult> decode;
        if (items[start].IsToken)
        {
            var batch = new LLamaBatch();
            for (int i = start; i < end; i++)
            {
                lastIndex = batch.Add((LLamaToken)items[i].Token, i, seq, logitsForAll || (logitsForLast && i == end - 1));
            }
            decode = () => _context.NativeHandle.Decode(batch);
        }
        else
        {
            // A new batch per call: LLamaBatchEmbeddings.Clear() leaves internal state behind in LLamaSharp 0.30.
            var batch = new LLamaBatchEmbeddings(Model.EmbeddingSize);
            for (int i = start; i < end; i++)
            {
                lastIndex = batch.Add(items[i].Image!.Row(items[i].Row), i, seq, logitsForAll || (logitsForLast && i == end - 1));
            }
            decode = () => _context.NativeHandle.Decode(batch);
        }
        if (!Decode(decode, () => sequence < _slots.Length ? [_slots[sequence]] : [], end - start))
        {
            return int.MinValue;
        }
        if (collect is not null)
        {
            for (int i = 0; i < end - start; i++)
            {
                collect.Add(_context.NativeHandle.GetLogitsIth(i).ToArray());
            }
        }
        return lastIndex;
    }

    /// <summary>Runs a decode; when the KV cache is full, evicts idle sessions (least recently used first) and retries.</summary>
    private bool Decode(Func<DecodeResult> decode, Func<HashSet<Slot>> keep, int positions)
    {
        while (true)
        {
            DecodeResult result = decode();
            Interlocked.Increment(ref _decodeCalls);
            if (result == DecodeResult.Ok)
            {
                Interlocked.Add(ref _decodedPositions, positions);
                return true;
            }
            if (result != DecodeResult.NoKvSlot)
            {
                throw new InvalidOperationException($"llama.cpp decode failed: {result}.");
            }
            HashSet<Slot> kept = keep();
            Slot? victim = _slots.Where(s => s.Owner is not null && s.Active is null && !kept.Contains(s)).MinBy(s => s.LastUsed);
            if (victim is null)
            {
                return false;
            }
            Evict(victim);
        }
    }

    private float[][] ScratchLogits(Prompt prompt)
    {
        var items = prompt.Items().ToList();
        var logits = new List<float[]>(items.Count);
        _context.NativeHandle.MemorySequenceRemove((LLamaSeqId)_scratchSequence, -1, -1);
        try
        {
            for (int start = 0; start < items.Count;)
            {
                int end = start;
                while (end < items.Count && end - start < Options.BatchSize && items[end].IsToken == items[start].IsToken
                       && (items[start].IsToken || items[end].Image == items[start].Image))
                {
                    end++;
                }
                if (DecodeRun(items, start, end, _scratchSequence, logitsForLast: true, logitsForAll: true, logits) == int.MinValue)
                {
                    throw new InvalidOperationException($"the KV cache has no room for a {items.Count}-position prompt.");
                }
                start = end;
            }
            return logits.ToArray();
        }
        finally
        {
            _context.NativeHandle.MemorySequenceRemove((LLamaSeqId)_scratchSequence, -1, -1);
        }
    }

    public void Dispose()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }
        _shutdown.Cancel();
        _wake.Release();
        _loop.Join();
        _context.Dispose();
        _wake.Dispose();
    }

    /// <summary>One llama.cpp sequence: which session owns it, what it holds, and what is generating in it.</summary>
    private sealed class Slot(int index)
    {
        public int Index { get; } = index;
        public ChatSession? Owner { get; set; }
        public List<PromptItem> Cached { get; } = [];
        public Request? Active { get; set; }
        public long LastUsed { get; set; }
    }

    /// <summary>One generation in flight.</summary>
    private sealed class Request : IDisposable
    {
        public Request(ChatSession session, Prompt prompt, SamplingOptions sampling, CancellationTokenSource cancellation)
        {
            Session = session;
            Prompt = prompt;
            Items = prompt.Items().ToList();
            Sampling = sampling;
            Cancellation = cancellation;
            Stops = new StopStringFilter(sampling.Stop);
            LanguageModel model = session.Engine.Model;
            Decoder = new StreamingTokenDecoder(Encoding.UTF8, model.Weights);
            Sampler = new DefaultSamplingPipeline
            {
                Temperature = sampling.Temperature,
                TopP = sampling.TopP,
                TopK = sampling.TopK,
                MinP = sampling.MinP,
                RepeatPenalty = sampling.RepetitionPenalty,
                PenaltyCount = sampling.RepetitionWindow,
                Seed = sampling.Seed ?? (uint)Random.Shared.Next(),
                PreventEOS = sampling.IgnoreEndOfGeneration,
            };
        }

        public ChatSession Session { get; }
        public Prompt Prompt { get; }
        public List<PromptItem> Items { get; }
        public SamplingOptions Sampling { get; }
        public CancellationTokenSource Cancellation { get; }
        public Channel<GenerationChunk> Output { get; } = Channel.CreateUnbounded<GenerationChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        public StopStringFilter Stops { get; }
        public StreamingTokenDecoder Decoder { get; }
        public DefaultSamplingPipeline Sampler { get; }
        public Stopwatch Clock { get; } = Stopwatch.StartNew();
        public List<int> Generated { get; } = [];
        public StringBuilder Text { get; } = new();
        public Slot? Slot { get; set; }
        public int Position { get; set; }
        public int CachedPromptTokens { get; set; }
        public int? NextToken { get; set; }
        public TimeSpan Admitted { get; set; }
        public TimeSpan? PrefillDone { get; set; }
        public TimeSpan? FirstToken { get; set; }
        public volatile bool Finished;
        public int CapacityReleased;

        public void Dispose() => Sampler.Dispose();
    }
}
