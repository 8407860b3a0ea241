using System.CommandLine;
using WebSsl.Assistant.SemanticKernel;
using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;
using WebSsl.Multimodal.Assistant;
using WebSsl.Training.Demo;
using WebSsl.Vision.Documents;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl ask</c> (one answer) and <c>webssl chat</c> (an interactive conversation), both streaming.</summary>
internal static class ChatCommands
{
    public static Command Ask(CliContext context)
    {
        var options = new LlmOptions(requireLlm: false);
        var question = new Argument<string>("question") { Description = "What to ask." };
        var encoder = new Option<DirectoryInfo?>("--encoder") { Description = "Web-SSL checkpoint folder (with --adapter and --image)." };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "Adapter folder trained for this encoder and LLM." };
        var images = new Option<FileInfo[]>("--image") { Description = "Image file (repeat for several).", AllowMultipleArgumentsPerToken = false };
        var task = new Option<string>("--task") { DefaultValueFactory = _ => "general", Description = "general, ocr, chart or document." };
        task.AcceptOnlyFromAmong("general", "ocr", "chart", "document");
        var preprocess = new Option<string?>("--preprocess") { Description = "crop, pad or stretch instead of the adapter's own." };
        preprocess.AcceptOnlyFromAmong("crop", "pad", "stretch");
        Option<int?> resolution = SharedOptions.Resolution();
        var pages = new Option<string?>("--pages") { Description = "For a PDF given with --image: the pages to ask about, N or N-M (default: all, at most 32)." };
        var dpi = new Option<int?>("--dpi") { Description = "Resolution PDF pages are rendered at (default: chosen for the adapter's views, 50-300 dpi)." };
        var command = new Command("ask", "Ask one question (about images, with --encoder/--adapter/--llm/--image) and stream the answer to stdout; timings go to stderr. " +
            "With no model options the demo assistant answers.")
        {
            question, encoder, adapter, images, task, preprocess, resolution, pages, dpi,
        };
        options.AddTo(command);
        command.Validators.Add(result =>
        {
            bool vision = result.GetResult(encoder) is { Implicit: false } || result.GetResult(adapter) is { Implicit: false } || result.GetResult(images) is { Implicit: false };
            bool models = result.GetResult(encoder) is { Implicit: false } || result.GetResult(adapter) is { Implicit: false } || result.GetResult(options.Llm) is { Implicit: false };
            if (models && vision && (result.GetResult(encoder) is not { Implicit: false } || result.GetResult(adapter) is not { Implicit: false }
                || result.GetResult(options.Llm) is not { Implicit: false }))
            {
                result.AddError("questions about images need --encoder, --adapter and --llm together (or none of them: the demo assistant answers).");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            AssistantTask asked = AssistantTasks.Parse(parse.GetValue(task)!);
            var documents = new DocumentPages(PageRange.Parse(parse.GetValue(pages), "--pages"), parse.GetValue(dpi));
            if (parse.GetValue(adapter) is { } adapterFolder)
            {
                return await AskAboutImages(context, parse, options, parse.GetValue(encoder)!.FullName, parse.GetValue(options.Llm)!.FullName, adapterFolder.FullName,
                    parse.GetValue(images) ?? [], documents, parse.GetValue(question)!, asked, parse.GetValue(preprocess), parse.GetValue(resolution), cancellationToken);
            }
            if (parse.GetValue(options.Llm) is null)
            {
                DemoBundle demo = DemoCommand.Find(null);
                await context.Error.WriteLineAsync($"webssl: no models given: the demo assistant answers ({DemoBundle.Label}; it reads only images like its training data). " +
                    $"From {demo.Directory}.");
                AssistantOptions models = demo.AssistantOptions();
                return await AskAboutImages(context, parse, options, models.EncoderPath, models.LlmPath, models.AdapterPath, parse.GetValue(images) ?? [], documents,
                    parse.GetValue(question)!, asked, parse.GetValue(preprocess), parse.GetValue(resolution), cancellationToken);
            }
            var (model, engine, builder) = options.Open(parse);
            using (model)
            using (engine)
            using (var conversation = new TextChat(engine, builder, parse.GetValue(options.System)))
            {
                GenerationResult result = await Stream(context, conversation, parse.GetValue(question)!, options.Sampling(parse), cancellationToken);
                await context.Error.WriteLineAsync(Timing(result));
            }
            return 0;
        });
        return command;
    }

    public static Command Chat(CliContext context)
    {
        var options = new LlmOptions();
        var command = new Command("chat", "Chat in the terminal with streamed answers. /reset starts over, /exit (or end of input) quits.");
        options.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (model, engine, builder) = options.Open(parse);
            using (model)
            using (engine)
            {
                var conversation = new TextChat(engine, builder, parse.GetValue(options.System));
                try
                {
                    await context.Output.WriteLineAsync($"{model.Name} ({model.Architecture}, n_embd {model.EmbeddingSize}, template {builder.Template.Name}). /reset, /exit.");
                    while (!cancellationToken.IsCancellationRequested)
                    {
                        await context.Output.WriteAsync("> ");
                        string? line = await context.Input.ReadLineAsync(cancellationToken);
                        if (line is null || line.Trim() == "/exit")
                        {
                            break;
                        }
                        if (line.Trim() == "/reset")
                        {
                            conversation.Dispose();
                            conversation = new TextChat(engine, builder, parse.GetValue(options.System));
                            await context.Output.WriteLineAsync("(new conversation)");
                            continue;
                        }
                        if (line.Trim().Length == 0)
                        {
                            continue;
                        }
                        GenerationResult result = await Stream(context, conversation, line, options.Sampling(parse), cancellationToken);
                        await context.Output.WriteLineAsync($"  [{Timing(result)}]");
                    }
                }
                finally
                {
                    conversation.Dispose();
                }
            }
            return 0;
        });
        return command;
    }

    private static async Task<int> AskAboutImages(CliContext context, ParseResult parse, LlmOptions options, string encoder, string llm, string adapter,
        FileInfo[] files, DocumentPages documents, string question, AssistantTask task, string? preprocess, int? resolution, CancellationToken cancellationToken)
    {
        int context_ = parse.GetValue(options.Context);
        // The files were named on the command line: as many images as they hold, within the renderer's pages per document.
        int most = Math.Max(4, files.Length * new PdfRenderOptions().MaxPages);
        await using VisionAssistant assistant = await VisionAssistant.LoadAsync(new AssistantOptions
        {
            EncoderPath = encoder,
            LlmPath = llm,
            AdapterPath = adapter,
            MaxImagesPerTurn = most,
            MaxImagesPerRequest = Math.Max(16, most),
            Threads = parse.GetValue(options.Threads),
            GpuLayers = parse.GetValue(options.GpuLayers),
            Engine = new EngineOptions { MaxSessions = 1, MaxQueue = 0, ContextSize = context_, MaxSessionTokens = context_ },
        }, SemanticKernelTaskPrompts.Load(), cancellationToken: cancellationToken);
        List<AssistantImage> images = await documents.LoadAsync(files, assistant, cancellationToken);
        using AssistantSession session = assistant.CreateSession(task);
        var asked = new AssistantQuestion(question)
        {
            Images = images,
            Sampling = options.Sampling(parse),
            Preprocess = preprocess is null ? null : SharedOptions.ParseMode(preprocess),
            Resolution = resolution,
        };
        await foreach (AssistantEvent e in session.AskAsync(asked, cancellationToken))
        {
            switch (e)
            {
                case TextDelta delta:
                    await context.Output.WriteAsync(delta.Text);
                    await context.Output.FlushAsync(cancellationToken);
                    break;
                case AnswerCompleted done:
                    await context.Output.WriteLineAsync();
                    await context.Error.WriteLineAsync(done.Answer.TimingLine);
                    break;
            }
        }
        return 0;
    }

    /// <summary>The --pages and --dpi choices for the PDFs among the --image files.</summary>
    private sealed record DocumentPages(PageRange? Pages, int? Dpi)
    {
        public Task<List<AssistantImage>> LoadAsync(IEnumerable<FileInfo> files, VisionAssistant reader, CancellationToken cancellationToken) =>
            DocumentImages.LoadFilesAsync(files.Select(f => f.FullName), Pages, reader.DocumentRendering with { Dpi = Dpi }, cancellationToken);
    }

    private static async Task<GenerationResult> Stream(CliContext context, TextChat conversation, string question, SamplingOptions sampling,
        CancellationToken cancellationToken)
    {
        GenerationResult? result = null;
        await foreach (GenerationChunk chunk in conversation.SendAsync(ChatTurn.User(question), sampling, cancellationToken))
        {
            await context.Output.WriteAsync(chunk.Text);
            await context.Output.FlushAsync(cancellationToken);
            result = chunk.Final ?? result;
        }
        await context.Output.WriteLineAsync();
        return result!;
    }

    private static string Timing(GenerationResult result)
    {
        GenerationUsage u = result.Usage;
        return $"{u.GeneratedTokens} tokens, {u.TokensPerSecond:F1} tokens/s, prompt {u.PromptTokens} ({u.CachedPromptTokens} cached) " +
               $"prefill {u.PrefillTime.TotalMilliseconds:F0} ms, first token {u.FirstTokenLatency.TotalMilliseconds:F0} ms, finish {result.FinishReason}";
    }
}
