using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WebSsl.HuggingFace;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl models pull|list|path|catalog</c>: real checkpoints and GGUF LLMs from the HuggingFace hub.</summary>
internal static class ModelsCommand
{
    /// <summary>Folders <c>list</c> looks in besides the hub cache: the repository's adapters/, a models/ folder, and the demo bundle.</summary>
    public static readonly string[] DefaultFolders = ["adapters", "models", DemoCommand.CacheDirectory];

    public static Command Create(CliContext context) => new("models", "Pull Web-SSL encoders and GGUF LLMs from the HuggingFace hub; list what is local.")
    {
        Pull(context),
        List(context),
        PathOf(context),
        Catalog(context),
    };

    private static Command Pull(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "A short name from `webssl models catalog` or a repository id (owner/name)." };
        var file = new Option<string?>("--file") { Description = "One file (a GGUF, or model.safetensors.index.json to take the shards it names); default: what an encoder needs." };
        var revision = new Option<string>("--revision") { Description = "Branch, tag or commit.", DefaultValueFactory = _ => "main" };
        var command = new Command("pull", "Download into the HuggingFace cache (HF_HUB_CACHE / HF_HOME; HF_ENDPOINT and HF_TOKEN honored), resuming and verifying.")
        {
            model, file, revision,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            HubOptions options = HubOptions.FromEnvironment();
            using var client = new HubClient(options);
            var puller = new ModelPuller(client);
            string name = parse.GetValue(model)!;
            await context.Output.WriteLineAsync($"pulling {name} from {options.Endpoint} into {options.CacheDirectory}");
            PullResult result = context.IsTerminal
                ? await WithProgressBars(context, puller, name, parse.GetValue(file), parse.GetValue(revision)!, cancellationToken)
                : await puller.PullAsync(name, parse.GetValue(file), parse.GetValue(revision)!, new LineProgress(context.Output), cancellationToken);
            foreach (PulledFile f in result.Files)
            {
                await context.Output.WriteLineAsync($"  {f.File}  {Size(f.Size)}  {(f.Downloaded ? "downloaded" : "already cached")}{(f.Sha256 is null ? "" : ", SHA-256 verified")}");
            }
            await context.Output.WriteLineAsync($"{result.Repo} @ {result.Commit[..Math.Min(12, result.Commit.Length)]}: {result.Files.Count} files, {Size(result.Bytes)} ({Size(result.DownloadedBytes)} downloaded)");
            string flag = result.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? "--llm" : "--encoder";
            await context.Output.WriteLineAsync($"{flag} {result.Path}");
            return 0;
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        var folders = new Option<string[]>("--dir") { Description = "Folders to search besides the hub cache (default: adapters, models, the demo cache).", AllowMultipleArgumentsPerToken = true };
        var command = new Command("list", "Encoders, GGUF LLMs and adapters on this machine, with sizes.") { folders };
        command.SetAction(async (parse, cancellationToken) =>
        {
            HubOptions options = HubOptions.FromEnvironment();
            string[] dirs = parse.GetValue(folders) is { Length: > 0 } given ? given : DefaultFolders;
            var found = LocalModels.Scan(new HubCache(options.CacheDirectory), dirs);
            if (found.Count == 0)
            {
                await context.Output.WriteLineAsync($"nothing found in {options.CacheDirectory} or {string.Join(", ", dirs)}; try `webssl models catalog` and `webssl models pull`, or `webssl demo`.");
                return 0;
            }
            var table = new Table().AddColumns("kind", "name", "size", "details", "path");
            foreach (LocalModel m in found.OrderBy(m => m.Kind).ThenBy(m => m.Name, StringComparer.Ordinal))
            {
                table.AddRow(Markup.Escape(m.Kind.ToString().ToLowerInvariant()), Markup.Escape(m.Name), Size(m.Bytes), Markup.Escape(m.Detail), Markup.Escape(m.Path));
            }
            context.Console.Write(table);
            await context.Output.WriteLineAsync($"hub cache: {options.CacheDirectory}");
            return 0;
        });
        return command;
    }

    private static Command PathOf(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "A short name or repository id pulled before." };
        var file = new Option<string?>("--file") { Description = "The file, for GGUF repositories not in the catalog." };
        var revision = new Option<string>("--revision") { DefaultValueFactory = _ => "main" };
        var command = new Command("path", "Print the local path of a pulled model, for --encoder / --llm: --encoder \"$(webssl models path NAME)\".") { model, file, revision };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var cache = new HubCache(HubOptions.FromEnvironment().CacheDirectory);
            string name = parse.GetValue(model)!;
            CatalogEntry? entry = ModelCatalog.Find(name);
            string repo = entry?.Repo ?? HubNames.CheckRepo(name);
            string revisionName = parse.GetValue(revision)!;
            string? commit = cache.ResolveRevision(repo, revisionName);
            string? wanted = parse.GetValue(file) ?? entry?.File;
            string? path = commit is null ? null : wanted is null ? cache.SnapshotFolder(repo, commit) : cache.SnapshotPath(repo, commit, wanted);
            if (path is null || !(wanted is null ? Directory.Exists(path) : File.Exists(path)))
            {
                throw new BadInputException($"{name}@{revisionName} is not in {cache.Root}; run `webssl models pull {name}` first.");
            }
            await context.Output.WriteLineAsync(path);
            return 0;
        });
        return command;
    }

    private static Command Catalog(CliContext context)
    {
        var command = new Command("catalog", "Short names for the published Web-SSL checkpoints and suitable small GGUF LLMs.");
        command.SetAction(parse =>
        {
            var table = new Table().AddColumns("name", "kind", "repository", "file", "about");
            foreach (CatalogEntry e in ModelCatalog.Entries)
            {
                table.AddRow(Markup.Escape(e.Name), e.Kind.ToString().ToLowerInvariant(), Markup.Escape(e.Repo), Markup.Escape(e.File ?? "(checkpoint folder)"), Markup.Escape(e.Description));
            }
            context.Console.Write(table);
            return 0;
        });
        return command;
    }

    private static async Task<PullResult> WithProgressBars(CliContext context, ModelPuller puller, string name, string? file, string revision, CancellationToken cancellationToken)
    {
        PullResult? result = null;
        await context.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                // Reported on the downloading thread, in order (Progress<T> would post to the pool, out of order and concurrently).
                var reporter = new SynchronousProgress<DownloadProgress>(p =>
                {
                    lock (tasks)
                    {
                        if (!tasks.TryGetValue(p.File, out ProgressTask? task))
                        {
                            tasks[p.File] = task = progress.AddTask(Markup.Escape(p.File), maxValue: Math.Max(1, p.Total));
                        }
                        task.Value = p.Received;
                    }
                });
                result = await puller.PullAsync(name, file, revision, reporter, cancellationToken);
            });
        return result!;
    }

    internal static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    /// <summary>Off a terminal: a line when a file starts, every 10% and when it completes.</summary>
    private sealed class LineProgress(TextWriter output) : IProgress<DownloadProgress>
    {
        private readonly Dictionary<string, int> lastDecile = new(StringComparer.Ordinal);

        public void Report(DownloadProgress value)
        {
            int decile = value.Total == 0 ? 10 : (int)(value.Received * 10 / value.Total);
            lock (lastDecile)
            {
                if (lastDecile.TryGetValue(value.File, out int last) && last == decile)
                {
                    return;
                }
                lastDecile[value.File] = decile;
                output.WriteLine(value.ResumedFrom > 0 && value.Received == value.ResumedFrom && value.Received < value.Total
                    ? $"  {value.File}: resuming at {Size(value.ResumedFrom)} of {Size(value.Total)}"
                    : $"  {value.File}: {decile * 10}% of {Size(value.Total)}");
            }
        }
    }
}
