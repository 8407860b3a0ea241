using System.Text.RegularExpressions;

namespace WebSsl.HuggingFace;

/// <summary>
/// The HuggingFace cache layout, as huggingface_hub writes it: <c>models--org--name/blobs/{etag}</c> holds each file
/// once; <c>snapshots/{commit}/{path}</c> are relative links to blobs; <c>refs/{revision}</c> holds the commit a branch
/// or tag pointed to. Downloads in progress are <c>blobs/{etag}.incomplete</c>, so a complete-looking name never holds
/// a partial file.
/// </summary>
public sealed partial class HubCache(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string RepoFolder(string repo) => Path.Combine(Root, "models--" + HubNames.CheckRepo(repo).Replace("/", "--", StringComparison.Ordinal));

    public string BlobPath(string repo, string etag) => Path.Combine(RepoFolder(repo), "blobs", CheckEtag(etag));

    public string IncompletePath(string repo, string etag) => BlobPath(repo, etag) + ".incomplete";

    public string SnapshotFolder(string repo, string commit) => Path.Combine(RepoFolder(repo), "snapshots", CheckCommit(commit));

    public string SnapshotPath(string repo, string commit, string file) =>
        Path.Combine(SnapshotFolder(repo, commit), HubNames.CheckFile(file).Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The commit a revision resolved to when it was last pulled; a commit hash is its own answer.</summary>
    public string? ResolveRevision(string repo, string revision)
    {
        if (CommitHash().IsMatch(revision))
        {
            return revision;
        }
        string refFile = Path.Combine(RepoFolder(repo), "refs", HubNames.CheckRevision(revision).Replace('/', Path.DirectorySeparatorChar));
        if (!File.Exists(refFile))
        {
            return null;
        }
        string commit = File.ReadAllText(refFile).Trim();
        return CommitHash().IsMatch(commit) ? commit : null;
    }

    public void WriteRef(string repo, string revision, string commit)
    {
        if (revision == commit)
        {
            return;
        }
        string refFile = Path.Combine(RepoFolder(repo), "refs", HubNames.CheckRevision(revision).Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(refFile)!);
        if (File.Exists(refFile) && File.ReadAllText(refFile).Trim() == commit)
        {
            return;
        }
        string temporary = refFile + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(temporary, commit);
        File.Move(temporary, refFile, overwrite: true);
    }

    /// <summary>Points <c>snapshots/{commit}/{file}</c> at the blob with a relative link, as huggingface_hub does.</summary>
    public string Link(string repo, string commit, string file, string etag)
    {
        string link = SnapshotPath(repo, commit, file);
        string blob = BlobPath(repo, etag);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        string target = Path.GetRelativePath(Path.GetDirectoryName(link)!, blob);
        var existing = new FileInfo(link);
        if (existing.LinkTarget == target)
        {
            return link;
        }
        string temporary = link + "." + Environment.ProcessId + ".link";
        File.Delete(temporary);
        File.CreateSymbolicLink(temporary, target);
        File.Move(temporary, link, overwrite: true);
        return link;
    }

    /// <summary>Repositories in the cache, with the commit and files of each snapshot.</summary>
    public IReadOnlyList<CachedRepo> List()
    {
        var repos = new List<CachedRepo>();
        if (!Directory.Exists(Root))
        {
            return repos;
        }
        foreach (string folder in Directory.EnumerateDirectories(Root, "models--*").Order(StringComparer.Ordinal))
        {
            string repo = Path.GetFileName(folder)["models--".Length..].Replace("--", "/", StringComparison.Ordinal);
            string snapshots = Path.Combine(folder, "snapshots");
            if (!Directory.Exists(snapshots))
            {
                continue;
            }
            foreach (string snapshot in Directory.EnumerateDirectories(snapshots).Order(StringComparer.Ordinal))
            {
                var files = Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories)
                    .Where(f => !f.EndsWith(".link", StringComparison.Ordinal))
                    .Select(f => new FileInfo(f))
                    .Where(f => f.Exists && (f.LinkTarget is null || f.ResolveLinkTarget(true) is { Exists: true }))
                    .Select(f => new CachedFile(Path.GetRelativePath(snapshot, f.FullName).Replace('\\', '/'), f.FullName, Length(f)))
                    .OrderBy(f => f.Name, StringComparer.Ordinal)
                    .ToList();
                repos.Add(new CachedRepo(repo, Path.GetFileName(snapshot), snapshot, files));
            }
        }
        return repos;
    }

    /// <summary>The length of what a path holds, following links (FileInfo.Length of a link is the link's own).</summary>
    public static long Length(FileInfo file) =>
        file.LinkTarget is null ? file.Length : file.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true } target ? target.Length : 0;

    private static string CheckEtag(string etag) =>
        EtagShape().IsMatch(etag) ? etag : throw new HubException(HubErrorKind.Protocol, $"the hub's ETag '{etag}' is not a plain hash; refusing to use it as a file name.");

    private static string CheckCommit(string commit) =>
        CommitHash().IsMatch(commit) ? commit : throw new HubException(HubErrorKind.Protocol, $"the hub's commit '{commit}' is not a 40-character hash.");

    [GeneratedRegex("^[0-9a-f]{40}$")]
    internal static partial Regex CommitHash();

    [GeneratedRegex("^[0-9A-Za-z_-]{8,128}$")]
    private static partial Regex EtagShape();
}

public sealed record CachedFile(string Name, string Path, long Length);

public sealed record CachedRepo(string Repo, string Commit, string Folder, IReadOnlyList<CachedFile> Files)
{
    public long Length => Files.Sum(f => f.Length);
}
