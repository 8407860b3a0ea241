using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using LLama;
using LLama.Common;
using LLama.Native;
using WebSsl.Language.Engine.Native;
using WebSsl.Language.Engine.Sampling;
using WebSsl.Language.Engine.Scheduling;
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
    private readonly KvSlots _slots;
    private readonly ContextDecoder _decoder;
    private readonly TokenSampler _sampler;
    private readonly int _scratchSequence;
    private readonly ConcurrentQueue<GenerationRequest> _incoming = new();
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly List<GenerationRequest> _waiting = [];
    private readonly List<GenerationRequest> _active = [];
    private readonly Thread _loop;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly LLamaBatch _stepBatch = new();
    private long _sessionIds;
    private int _pendingRequests; // submitted and not finished: waiting + active
    private int _generating;

    private LanguageEngine(LanguageModel model, EngineOptions options, LLamaContext context)
    {
        Model = model;
        Options = options;
        _context = context;
        _slots = new KvSlots(context.NativeHandle, options.MaxSessions);
        _decoder = new ContextDecoder(context, _slots, model.EmbeddingSize, options.BatchSize);
        _sampler = new TokenSampler(context, Enumerable.Range(0, model.VocabularySize).Select(model.IsEndOfGeneration).ToArray());
        _scratchSequence = options.MaxSessions;
        _loop = new Thread(Run) { IsBackground = true, Name = "webssl-llama-scheduler" };
        _loop.Start();
    }

    public LanguageModel Model { get; }

    public EngineOptions Options { get; }

    public EngineStatistics Statistics => new(_decoder.DecodedPositions, _decoder.DecodeCalls, Volatile.Read(ref _generating),
        Math.Max(0, Volatile.Read(ref _pendingRequests) - Volatile.Read(ref _generating)), _slots.Resident);

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

    public EngineSession CreateSession() => new(this, Interlocked.Increment(ref _sessionIds));

    /// <summary>
    /// Streams the continuation of <paramref name="prompt"/> in <paramref name="session"/>. Throws at once (not when
    /// enumerated) for a full queue, an over-long prompt, or a session that is already generating.
    /// </summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(EngineSession session, Prompt prompt, SamplingOptions sampling,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        if (session.Engine != this || session.IsDisposed)
        {
            throw new ArgumentException("the session is disposed or belongs to another engine.");
        }
        sampling.Validate();
        ValidatePrompt(prompt);
        var request = new GenerationRequest(session, prompt, sampling, CancellationTokenSource.CreateLinkedTokenSource(cancellationToken));
        lock (session)
        {
            // A cancelled request may still be finishing on the scheduler; the new one simply waits for it.
            if (session.Current is GenerationRequest current && !current.Finished && !current.Cancellation.IsCancellationRequested)
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
    public async Task<GenerationResult> CompleteAsync(EngineSession session, Prompt prompt, SamplingOptions sampling, CancellationToken cancellationToken = default)
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
                completion.SetResult(_decoder.ScratchLogits(prompt.Items().ToList(), _scratchSequence));
            }
            catch (Exception e)
            {
                completion.SetException(e);
            }
        });
        _wake.Release();
        return completion.Task;
    }

    internal int CachedTokens(EngineSession session) => _slots.CachedTokens(session);

    internal void Release(EngineSession session)
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }
        _commands.Enqueue(() => _slots.EvictIdle(session));
        _wake.Release();
    }

    private void ValidatePrompt(Prompt prompt)
    {
        if (prompt.Length == 0)
        {
            throw new BadInputException("the prompt is empty.");
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
                throw new RequestRefusedException(ProblemKind.ModelMismatch, "adapter-mismatch",
                    $"an image embedding has width {image.Image.Width}, but {Model.Name} has n_embd {Model.EmbeddingSize}: the projector does not match this LLM.");
            }
        }
    }

    private static async IAsyncEnumerable<GenerationChunk> Read(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
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
                while (_incoming.TryDequeue(out GenerationRequest? request))
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
                foreach (GenerationRequest request in _active.ToList())
                {
                    Complete(request, e);
                }
            }
        }
        foreach (GenerationRequest request in _waiting.Concat(_active).ToList())
        {
            Complete(request, new ObjectDisposedException(nameof(LanguageEngine)));
        }
        while (_incoming.TryDequeue(out GenerationRequest? late))
        {
            Complete(late, new ObjectDisposedException(nameof(LanguageEngine)));
        }
    }

    private void DropCancelled()
    {
        foreach (GenerationRequest request in _waiting.Concat(_active).Where(r => r.Cancellation.IsCancellationRequested).ToList())
        {
            Complete(request, new OperationCanceledException(request.Cancellation.Token));
        }
    }

    /// <summary>Gives waiting requests a slot (see <see cref="KvSlots.Claim"/>) and keeps what their session's cache shares with the new prompt.</summary>
    private void Admit()
    {
        while (_active.Count < _slots.Count)
        {
            // First in, first served, except that a session's new request waits for its previous one to finish.
            GenerationRequest? request = _waiting.FirstOrDefault(w => _active.All(a => a.Session != w.Session));
            if (request is null || _slots.Claim(request.Session) is not KvSlot slot)
            {
                return;
            }
            _waiting.Remove(request);
            slot.Active = request;
            request.Slot = slot;
            request.Admitted = request.Clock.Elapsed;
            _active.Add(request);
            Interlocked.Increment(ref _generating);
            request.Position = request.CachedPromptTokens = _slots.KeepCommonPrefix(slot, request.Items);
        }
    }

    /// <summary>Decodes one chunk (see <see cref="PromptChunks"/>) of every request still reading its prompt.</summary>
    private void Prefill()
    {
        foreach (GenerationRequest request in _active.Where(r => r.ReadingPrompt).ToList())
        {
            int start = request.Position;
            int end = PromptChunks.End(request.Items, start, Options.BatchSize);
            bool last = end == request.Items.Count;
            if (_decoder.DecodeRun(request.Items, start, end, request.Slot!.Index, logitsForLast: last, logitsForAll: false) is not int logitsIndex)
            {
                Finish(request, FinishReason.ContextFull);
                continue;
            }
            request.Slot.Cached.AddRange(request.Items.GetRange(start, end - start));
            request.Position = end;
            if (last)
            {
                request.PrefillDone = request.Clock.Elapsed;
                Accept(request, _sampler.Sample(request, logitsIndex));
            }
        }
    }

    /// <summary>One token for every generating request, all in one batch.</summary>
    private void GenerateOneToken()
    {
        List<GenerationRequest> generating = _active.Where(r => !r.ReadingPrompt && r.NextToken is not null).ToList();
        if (generating.Count == 0)
        {
            return;
        }
        LLamaBatch batch = _stepBatch;
        batch.Clear();
        var indices = new int[generating.Count];
        for (int i = 0; i < generating.Count; i++)
        {
            GenerationRequest r = generating[i];
            indices[i] = batch.Add((LLamaToken)r.NextToken!.Value, r.Slot!.Cached.Count, (LLamaSeqId)r.Slot.Index, true);
        }
        if (!_decoder.DecodeStep(batch))
        {
            foreach (GenerationRequest r in generating)
            {
                Finish(r, FinishReason.ContextFull);
            }
            return;
        }
        for (int i = 0; i < generating.Count; i++)
        {
            GenerationRequest r = generating[i];
            r.Slot!.Cached.Add(new PromptItem(r.NextToken!.Value, null, 0));
            r.NextToken = null;
            Accept(r, _sampler.Sample(r, indices[i]));
        }
    }

    private void Accept(GenerationRequest request, LLamaToken token)
    {
        if (request.Accept((int)token, _sampler.IsEndOfGeneration((int)token), Options.MaxSessionTokens) is FinishReason reason)
        {
            Finish(request, reason);
        }
    }

    private void Finish(GenerationRequest request, FinishReason reason)
    {
        request.WriteResult(reason);
        Complete(request, null);
    }

    /// <summary>Ends a request (with its result already written, or failed with <paramref name="error"/>) and gives back its slot and capacity.</summary>
    private void Complete(GenerationRequest request, Exception? error)
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
            _slots.Release(slot);
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

    private void ReleaseCapacity(GenerationRequest request)
    {
        if (Interlocked.Exchange(ref request.CapacityReleased, 1) == 0)
        {
            Interlocked.Decrement(ref _pendingRequests);
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
}
