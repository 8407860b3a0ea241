using System.CommandLine;
using WebSsl.Assistant.Cli.Commands;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Images;

namespace WebSsl.Assistant.Cli;

/// <summary>The <c>webssl</c> command tree. Tests call <see cref="RunAsync"/> in-process with their own writers.</summary>
public static class WebSslCli
{
    /// <summary>Exit code for input the user can fix (bad checkpoint, image, argument); 1 is kept for unexpected failures.</summary>
    public const int InputError = Problems.InputErrorExitCode;

    public static RootCommand Build(CliContext context) => new("WebSsl.Assistant: Web-SSL vision encoders, local LLMs and the projectors between them.")
    {
        FeaturesCommand.Create(context),
        BenchCommand.Create(context),
        FixturesCommand.Create(context),
        QuickstartCommand.Create(context),
        ServeCommand.Create(context),
        ChatCommands.Ask(context),
        ChatCommands.Chat(context),
        TrainingCommands.CheckLlm(context),
        TrainingCommands.ValidateData(context),
        TrainingCommands.Train(context),
        SynthCommand.Create(context),
        EvalCommand.Create(context),
        ModelsCommand.Create(context),
        DemoCommand.Create(context),
    };

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        await RunAsync(args, Console.In, output, error, cancellationToken);

    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var context = new CliContext(input, output, error);
        ParseResult parse = Build(context).Parse(args);
        try
        {
            if (parse.Errors.Count > 0)
            {
                await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
                return InputError;
            }
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false },
                cancellationToken);
        }
        catch (WebSslException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return Problems.ExitCode(e.Kind);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            // The files and folders a user names are opened where they are used; their errors name the path.
            await error.WriteLineAsync($"error: {e.Message}");
            return Problems.InputErrorExitCode;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("cancelled.");
            return Problems.CancelledExitCode;
        }
        catch (Exception e)
        {
            // Not the user's input: say so, with what is needed to report it, without a crash dump on the way out.
            await error.WriteLineAsync($"error (unexpected, please report): {e.GetType().Name}: {e.Message}{Environment.NewLine}{e.StackTrace}");
            return Problems.InternalErrorExitCode;
        }
    }
}

/// <summary>Where commands write. Spectre renders tables into the same writer, without ANSI codes when it is not a terminal.</summary>
public sealed class CliContext(TextReader input, TextWriter output, TextWriter error)
{
    public TextReader Input { get; } = input;

    /// <summary>True when writing to an interactive terminal (progress bars); false for pipes, files and tests.</summary>
    public bool IsTerminal => ReferenceEquals(Output, System.Console.Out) && !System.Console.IsOutputRedirected;

    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public Spectre.Console.IAnsiConsole Console { get; } = CreateConsole(output);

    private static Spectre.Console.IAnsiConsole CreateConsole(TextWriter output)
    {
        bool terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Out = new Spectre.Console.AnsiConsoleOutput(output),
            Ansi = terminal ? Spectre.Console.AnsiSupport.Detect : Spectre.Console.AnsiSupport.No,
            ColorSystem = terminal ? Spectre.Console.ColorSystemSupport.Detect : Spectre.Console.ColorSystemSupport.NoColors,
            Interactive = Spectre.Console.InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = 160; // logs and files: wide enough that tables never wrap
        }
        return console;
    }
}
