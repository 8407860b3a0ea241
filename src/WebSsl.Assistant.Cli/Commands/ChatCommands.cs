using System.CommandLine;
using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl ask</c> (one answer) and <c>webssl chat</c> (an interactive conversation), both streaming.</summary>
internal static class ChatCommands
{
    public static Command Ask(CliContext context)
    {
        var options = new LlmOptions();
        var question = new Argument<string>("question") { Description = "What to ask." };
        var command = new Command("ask", "Ask one question and stream the answer to stdout (timings go to stderr).") { question };
        options.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (model, engine, builder) = options.Open(parse);
            using (model)
            using (engine)
            using (var conversation = new Conversation(engine, builder, parse.GetValue(options.System)))
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
                var conversation = new Conversation(engine, builder, parse.GetValue(options.System));
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
                            conversation = new Conversation(engine, builder, parse.GetValue(options.System));
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

    private static async Task<GenerationResult> Stream(CliContext context, Conversation conversation, string question, SamplingOptions sampling,
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
