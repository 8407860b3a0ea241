namespace WebSsl.HuggingFace;

/// <summary>
/// What the hub says about one file at one revision (from the headers of a HEAD on its resolve URL): the commit the
/// revision points to, the blob's ETag (for LFS files the SHA-256 of the content), its size, and where to GET it.
/// </summary>
public sealed record HubFileMetadata(string Repo, string File, string Commit, string Etag, long Size, Uri Location, bool IsLfs)
{
    /// <summary>The content's SHA-256 in lower-case hex, known for LFS files (their ETag is it).</summary>
    public string? Sha256 => IsLfs && Etag.Length == 64 && Etag.All(Uri.IsHexDigit) ? Etag.ToLowerInvariant() : null;
}

/// <summary>A repository at a revision: its commit and file names (<c>/api/models/{repo}/revision/{revision}</c>).</summary>
public sealed record HubRepoInfo(string Repo, string Commit, IReadOnlyList<string> Files);

/// <summary>Progress of one download: bytes on disk so far (including a resumed prefix) of the total.</summary>
public readonly record struct DownloadProgress(string File, long Received, long Total, long ResumedFrom);

/// <summary>A file in the cache after a pull, and whether bytes had to be fetched for it.</summary>
public sealed record PulledFile(string Repo, string File, string Path, long Size, string Commit, bool Downloaded, string? Sha256);
