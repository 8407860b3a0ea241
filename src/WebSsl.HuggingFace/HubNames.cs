using System.Text.RegularExpressions;

namespace WebSsl.HuggingFace;

/// <summary>Checks repository ids, revisions and file names before they become URLs or paths (no "..", no absolute paths).</summary>
public static partial class HubNames
{
    public static string CheckRepo(string repo) =>
        RepoId().IsMatch(repo) && !repo.Contains("..", StringComparison.Ordinal) && !repo.Contains("--", StringComparison.Ordinal)
            ? repo
            : throw new BadInputException($"'{repo}' is not a hub repository id (owner/name: letters, digits, '-', '_', '.').");

    public static string CheckRevision(string revision) =>
        revision.Length is > 0 and <= 200 && revision.Split('/').All(Segment)
            ? revision
            : throw new BadInputException($"'{revision}' is not a revision (a branch, tag or commit).");

    public static string CheckFile(string file) =>
        file.Length is > 0 and <= 1000 && !file.Contains('\\') && file.Split('/').All(Segment)
            ? file
            : throw new BadInputException($"'{file}' is not a file path inside a repository (relative, '/'-separated, no '..').");

    /// <summary>The path part of a URL for a revision or file: each segment escaped; a revision's '/' escaped too, as the hub expects.</summary>
    public static string EscapeRevision(string revision) => Uri.EscapeDataString(CheckRevision(revision));

    public static string EscapeFile(string file) => string.Join('/', CheckFile(file).Split('/').Select(Uri.EscapeDataString));

    private static bool Segment(string s) => s.Length > 0 && s != "." && s != ".." && !s.Any(char.IsControl);

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")]
    private static partial Regex RepoId();
}
