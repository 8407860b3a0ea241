using System.Diagnostics;
using System.Runtime.CompilerServices;
using WebSsl.Language;
using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Embedding;
using WebSsl.Vision;
using WebSsl.Vision.Images;

namespace WebSsl.Multimodal.Assistant;

/// <summary>
/// The assistant everyone uses (CLI, server, Semantic Kernel): a Web-SSL encoder, an adapter and a local LLM, checked
/// against each other when loaded. Questions carry zero or more images; each image is decoded within limits, encoded
/// (batched with images arriving at the same time), projected, and cached by content; answers stream.
/// </summary>
public sealed class VisionAssistant : IAsyncDisposable
{
    private readonly PromptBuilder _prompts;

    private VisionAssistant(AssistantOptions options, VisionEncoder encoder, LanguageModel llm, Adapter adapter, LanguageEngine engine, ITaskPrompts taskPrompts,
        ImageDecodeGate decodes)
    {
        Options = options;
        Encoder = encoder;
        Llm = llm;
        Adapter = adapter;
        Engine = engine;
        TaskPrompts = taskPrompts;
        Embedder = ImageEmbedder.ForAdapter(encoder, adapter, new ImageEmbedderOptions
        {
            ImageLimits = options.ImageLimits,
            CacheBytes = options.EmbeddingCacheBytes,
            EncoderParallelism = options.EncoderParallelism,
            BatchWindow = options.EncoderBatchWindow,
            MaxBatch = options.MaxEncoderBatch,
            MaxTokensPerImage = options.MaxTokensPerImage,
        }, decodes);
        _prompts = new PromptBuilder(ChatTemplate.For(llm, adapter.Manifest.Prompt.Template == "gguf" ? null : adapter.Manifest.Prompt.Template), llm);
        Decodes = decodes;
        Sessions = new SessionPool(engine.CreateSession, Math.Max(64, 4 * engine.Options.MaxSessions));
    }

    public AssistantOptions Options { get; }
    public VisionEncoder Encoder { get; }
    public LanguageModel Llm { get; }
    public Adapter Adapter { get; }
    public LanguageEngine Engine { get; }

    /// <summary>The one path from image bytes to LLM input embeddings (cached, batched).</summary>
    public ImageEmbedder Embedder { get; }
    public ITaskPrompts TaskPrompts { get; }
    public EmbeddingCache Cache => Embedder.Cache;

    /// <summary>Bounds the images decoded at once (shared with whatever else decodes in the process, e.g. uploads).</summary>
    public ImageDecodeGate Decodes { get; }

    /// <summary>Engine sessions of conversations, by id, for every surface (one question at a time per conversation).</summary>
    public SessionPool Sessions { get; }

    /// <summary>Encoder forward passes so far (several images may share one).</summary>
    public long EncoderPasses => Embedder.EncoderPasses;

    /// <summary>Images the encoder has processed so far (cache hits not counted).</summary>
    public long EncodedImages => Embedder.EncodedImages;

    /// <summary>A short description for UIs and logs.</summary>
    public string Description => $"{Encoder.Name} + {Llm.Name} via {Path.GetFileName(Adapter.Directory)} ({Adapter.Manifest.Projector.Type})";

    /// <summary>
    /// Loads the three parts and checks that the adapter was trained for this encoder and this LLM. Images are decoded
    /// through <paramref name="decodes"/> (default: a gate of its own from <see cref="AssistantOptions.Decoding"/>).
    /// </summary>
    public static Task<VisionAssistant> LoadAsync(AssistantOptions options, ITaskPrompts? taskPrompts = null, ImageDecodeGate? decodes = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() =>
        {
            VisionEncoder encoder = VisionEncoder.Load(options.EncoderPath, new VisionEncoderOptions { Device = options.Device, Threads = options.Threads }, cancellationToken);
            LanguageModel? llm = null;
            Adapter? adapter = null;
            try
            {
                llm = LanguageModel.Load(options.LlmPath, new LanguageModelOptions { GpuLayers = options.GpuLayers });
                adapter = Adapter.Load(options.AdapterPath, llm: Identities.Of(llm));
                var engine = LanguageEngine.Create(llm, options.Engine with { Threads = options.Engine.Threads ?? options.Threads });
                try
                {
                    return new VisionAssistant(options, encoder, llm, adapter, engine, taskPrompts ?? PlainTaskPrompts.Instance,
                        decodes ?? new ImageDecodeGate(options.Decoding));
                }
                catch
                {
                    engine.Dispose();
                    throw;
                }
            }
            catch
            {
                adapter?.Dispose();
                llm?.Dispose();
                encoder.Dispose();
                throw;
            }
        }, cancellationToken);

    /// <summary>A new conversation; its KV cache is kept between its questions.</summary>
    public AssistantSession CreateSession(AssistantTask task = AssistantTask.General) => new(this, task);

    /// <summary>The embedding of one image of a question, and the report of what was done to it.</summary>
    private async Task<(ImageEmbedding Embedding, ImageReport Report)> EmbedAsync(AssistantImage image, int index, PreprocessOptions preprocess,
        CancellationToken cancellationToken)
    {
        // A session holds at most MaxSessionTokens positions, answer included: an image that alone would not fit is refused unencoded.
        EmbeddedImage e = await Embedder.EmbedAsync(image.Bytes, image.Name, preprocess, Engine.Options.MaxSessionTokens - 1, cancellationToken).ConfigureAwait(false);
        return (e.Embedding, new ImageReport(index, image.Name, e.OriginalWidth, e.OriginalHeight, e.Resolution, e.Mode.ToString().ToLowerInvariant(),
            e.Embedding.Tokens, e.Elapsed.TotalMilliseconds, e.Cached) { GridColumns = e.Layout.Grid.Columns, GridRows = e.Layout.Grid.Rows });
    }

    internal PromptBuilder Prompts => _prompts;

    /// <summary>How PDF pages are rendered for this reader: enough pixels for its views (the global view and its most tiles), no more.</summary>
    public Vision.Documents.PdfRenderOptions DocumentRendering =>
        Vision.Documents.PdfRenderOptions.ForReader(Embedder.Preprocess.Resolution ?? Encoder.Config.ImageSize, Vision.Images.Tiling.ImageViews.MaxViews(Embedder.Tiling));

    /// <summary>
    /// What a user sent for one question as its images: an image as it is, a PDF as its pages rendered for this reader
    /// (<paramref name="pages"/> or all), no more pages than one question may hold (refused before rendering).
    /// </summary>
    public Task<IReadOnlyList<AssistantImage>> LoadForQuestionAsync(ReadOnlyMemory<byte> bytes, string name, PageRange? pages = null,
        CancellationToken cancellationToken = default)
    {
        Vision.Documents.PdfRenderOptions render = DocumentRendering;
        return DocumentImages.LoadAsync(bytes, name, pages, render with { MaxPages = Math.Min(render.MaxPages, Options.MaxImagesPerTurn) }, cancellationToken);
    }

    /// <summary>Greedy: questions about charts and documents want the most likely reading, the same every time.</summary>
    public static SamplingOptions DefaultSampling { get; } = SamplingOptions.Greedy with { MaxTokens = 512 };

    /// <summary>
    /// The one validation of a request, for every surface (the hub, the OpenAI API, the chat client, the CLI): the
    /// question is last, not empty and not too long; images per question and per request (history included, since an
    /// OpenAI client resends it) within the limits; sampling within range. <see cref="ChatAsync"/> runs it before any
    /// work; a surface that records the question first (the hub) runs it before recording.
    /// </summary>
    /// <exception cref="BadInputException">naming the rule that is broken.</exception>
    public void Validate(IReadOnlyList<AssistantMessage> messages, AssistantRequest? request = null)
    {
        if (messages.Count == 0 || messages[^1].Role != ChatRole.User)
        {
            throw new BadInputException("the last message must be the user's question.");
        }
        AssistantMessage question = messages[^1];
        if (question.Text.Length > Options.MaxQuestionCharacters)
        {
            throw new BadInputException($"the question has {question.Text.Length} characters; at most {Options.MaxQuestionCharacters} are allowed.");
        }
        CheckImagesPerQuestion(question.Images.Count);
        if (question.Text.Trim().Length == 0 && question.Images.Count == 0)
        {
            throw new BadInputException("the question is empty: send text, images, or both.");
        }
        // Earlier messages' images are part of the prompt too (and are decoded when not cached): count them all.
        int imageCount = messages.Sum(m => m.Images.Count);
        if (imageCount > Options.MaxImagesPerRequest)
        {
            throw new BadInputException($"{imageCount} images in the conversation; at most {Options.MaxImagesPerRequest} are allowed in one request (history included). " +
                "Start a new conversation, or leave earlier images out.");
        }
        if (request?.Sampling is { } sampling)
        {
            if (sampling.MaxTokens < 1 || sampling.MaxTokens > Options.MaxAnswerTokens)
            {
                throw new BadInputException($"max tokens is {sampling.MaxTokens}; it must be between 1 and {Options.MaxAnswerTokens}.");
            }
            if (sampling.Temperature is < 0 or > 2)
            {
                throw new BadInputException($"temperature is {sampling.Temperature}; it must be between 0 and 2.");
            }
        }
    }

    /// <summary>
    /// The images-per-question rule of <see cref="Validate"/> alone, for a surface that can check it before it fetches the
    /// images (the hub, whose clients send image ids).
    /// </summary>
    public void CheckImagesPerQuestion(int count)
    {
        if (count > Options.MaxImagesPerTurn)
        {
            throw new BadInputException($"{count} images in one question; at most {Options.MaxImagesPerTurn} are allowed.");
        }
    }

    /// <summary>
    /// Answers the last user message of <paramref name="messages"/> in <paramref name="session"/>. Earlier messages (and
    /// their images, from the cache) are replayed; the engine decodes only what its cache of the session does not hold.
    /// The task's prompt phrases the last question and supplies a system prompt when the messages have none.
    /// </summary>
    public async IAsyncEnumerable<AssistantEvent> ChatAsync(EngineSession session, IReadOnlyList<AssistantMessage> messages, AssistantTask task,
        AssistantRequest? request = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        request ??= new AssistantRequest();
        Validate(messages, request);
        AssistantMessage question = messages[^1];
        PreprocessOptions preprocess = Embedder.OptionsFor(request.Preprocess, request.Resolution, request.Enhancement);

        // Every image of the conversation at once (history images come from the cache), so new ones can share a batch.
        var clock = Stopwatch.StartNew();
        var jobs = messages.SelectMany((m, mi) => m.Images.Select((image, ii) => (Message: mi, Image: image, Index: ii))).ToList();
        var embedded = await Task.WhenAll(jobs.Select(j => EmbedAsync(j.Image, j.Index, preprocess, cancellationToken))).ConfigureAwait(false);
        double encodeMilliseconds = clock.Elapsed.TotalMilliseconds;
        var reports = new List<ImageReport>();
        for (int i = 0; i < jobs.Count; i++)
        {
            if (jobs[i].Message == messages.Count - 1)
            {
                reports.Add(embedded[i].Report);
                yield return new ImageProcessed(embedded[i].Report);
            }
        }

        TaskPrompt rendered = await TaskPrompts.RenderAsync(task, question.Text, cancellationToken).ConfigureAwait(false);
        if (task == AssistantTask.General)
        {
            // General questions are asked exactly as the adapter was trained: with its system prompt, or none.
            rendered = rendered with { System = Adapter.Manifest.Prompt.System };
        }
        var turns = new List<ChatTurn>();
        if (messages[0].Role != ChatRole.System && rendered.System is { Length: > 0 } system)
        {
            turns.Add(ChatTurn.System(system));
        }
        for (int m = 0; m < messages.Count; m++)
        {
            AssistantMessage message = messages[m];
            var images = jobs.Select((j, i) => (j, i)).Where(x => x.j.Message == m).Select(x => embedded[x.i].Embedding).ToArray();
            turns.Add(message.Role switch
            {
                ChatRole.System => ChatTurn.System(message.Text),
                ChatRole.Assistant => ChatTurn.Assistant(message.Text, message.Tokens),
                _ => new ChatTurn(ChatRole.User, m == messages.Count - 1 ? rendered.User : message.Text) { Images = images },
            });
        }

        Prompt prompt = _prompts.Build(turns);
        SamplingOptions sampling = request.Sampling ?? DefaultSampling;
        await foreach (GenerationChunk chunk in Engine.GenerateAsync(session, prompt, sampling, cancellationToken).ConfigureAwait(false))
        {
            if (chunk.Text.Length > 0)
            {
                yield return new TextDelta(chunk.Text);
            }
            if (chunk.Final is { } result)
            {
                GenerationUsage u = result.Usage;
                var metrics = new AnswerMetrics(encodeMilliseconds, u.PrefillTime.TotalMilliseconds, encodeMilliseconds + u.FirstTokenLatency.TotalMilliseconds,
                    u.TokensPerSecond, u.PromptTokens, u.ImageTokens, u.CachedPromptTokens, u.GeneratedTokens);
                yield return new AnswerCompleted(new AssistantAnswer(result.Text, result.FinishReason, metrics, reports) { Tokens = result.Tokens });
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Embedder.DisposeAsync().ConfigureAwait(false);
        Sessions.Dispose();
        Engine.Dispose();
        Adapter.Dispose();
        Llm.Dispose();
        Encoder.Dispose();
    }
}

/// <summary>
/// A conversation with the assistant. Messages (and the tokens of each answer) are kept, so every follow-up decodes only
/// what is new. One question at a time.
/// </summary>
public sealed class AssistantSession : IDisposable
{
    private readonly VisionAssistant _assistant;
    private readonly List<AssistantMessage> _messages = [];

    internal AssistantSession(VisionAssistant assistant, AssistantTask task)
    {
        _assistant = assistant;
        Task = task;
        Session = assistant.Engine.CreateSession();
    }

    /// <summary>The task of the conversation (its prompts); a question may name another one.</summary>
    public AssistantTask Task { get; }

    public EngineSession Session { get; }

    public IReadOnlyList<AssistantMessage> Messages => _messages;

    /// <summary>Streams: one <see cref="ImageProcessed"/> per image, <see cref="TextDelta"/> pieces, then <see cref="AnswerCompleted"/>.</summary>
    public async IAsyncEnumerable<AssistantEvent> AskAsync(AssistantQuestion question, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var asked = new AssistantMessage(ChatRole.User, question.Text) { Images = question.Images };
        var request = new AssistantRequest { Sampling = question.Sampling, Preprocess = question.Preprocess, Resolution = question.Resolution, Enhancement = question.Enhancement };
        await foreach (AssistantEvent e in _assistant.ChatAsync(Session, [.. _messages, asked], question.Task ?? Task, request, cancellationToken).ConfigureAwait(false))
        {
            if (e is AnswerCompleted done)
            {
                _messages.Add(asked);
                _messages.Add(new AssistantMessage(ChatRole.Assistant, done.Answer.Text) { Tokens = done.Answer.Tokens });
            }
            yield return e;
        }
    }

    /// <summary>Asks and waits for the whole answer.</summary>
    public async Task<AssistantAnswer> AnswerAsync(AssistantQuestion question, CancellationToken cancellationToken = default)
    {
        AssistantAnswer? answer = null;
        await foreach (AssistantEvent e in AskAsync(question, cancellationToken).ConfigureAwait(false))
        {
            answer = (e as AnswerCompleted)?.Answer ?? answer;
        }
        return answer ?? throw new InvalidOperationException("the answer stream ended without an answer.");
    }

    public void Dispose() => Session.Dispose();
}
