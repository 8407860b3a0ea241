using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace WebSsl.HuggingFace;

/// <summary>
/// Downloads files from the HuggingFace hub into the HuggingFace cache, the way huggingface_hub does (same URLs, headers
/// and layout), with what a large checkpoint needs: interrupted downloads resume with HTTP Range, sizes and the SHA-256 of
/// LFS files are verified before a file takes its final name, transient failures are retried, and an unreachable hub
/// falls back to what is cached. There is no official .NET client for the hub, hence this one.
/// </summary>
public sealed class HubClient : IDisposable
{
    private readonly HttpClient http;
    private readonly Uri endpoint;

    public HubClient(HubOptions options, HttpMessageHandler? handler = null)
    {
        Options = options;
        Cache = new HubCache(options.CacheDirectory);
        endpoint = new Uri(options.Endpoint.TrimEnd('/') + "/");
        http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // redirects are followed here, so the token never leaves the hub's host
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan, // a multi-GB download takes long; silence is caught per read instead
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("webssl/1.0");
    }

    public HubOptions Options { get; }

    public HubCache Cache { get; }

    /// <summary>Downloads (or finds in the cache) one file and returns its path in the snapshot folder.</summary>
    public async Task<PulledFile> DownloadAsync(string repo, string file, string revision = "main", IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        HubNames.CheckRepo(repo);
        HubNames.CheckFile(file);
        HubNames.CheckRevision(revision);
        if (Options.Offline)
        {
            return FromCache(repo, file, revision) ?? throw new HubException(HubErrorKind.Unavailable,
                $"{repo}/{file}@{revision} is not in the cache {Cache.Root} and HF_HUB_OFFLINE is set.");
        }
        HubFileMetadata metadata;
        try
        {
            metadata = await GetMetadataAsync(repo, file, revision, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException e) when (e.Kind == HubErrorKind.Unavailable && FromCache(repo, file, revision) is PulledFile cached)
        {
            return cached; // offline, but pulled before: what huggingface_hub does too
        }

        string blob = Cache.BlobPath(repo, metadata.Etag);
        bool downloaded = false;
        if (!IsComplete(blob, metadata.Size))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
            using (await FileLock.AcquireAsync(blob + ".lock", cancellationToken).ConfigureAwait(false))
            {
                if (!IsComplete(blob, metadata.Size))
                {
                    await FetchVerifiedAsync(metadata, blob, progress, cancellationToken).ConfigureAwait(false);
                    downloaded = true;
                }
            }
        }
        string path = Cache.Link(repo, metadata.Commit, file, metadata.Etag);
        Cache.WriteRef(repo, revision, metadata.Commit);
        if (!downloaded)
        {
            progress?.Report(new DownloadProgress(file, metadata.Size, metadata.Size, metadata.Size));
        }
        return new PulledFile(repo, file, path, metadata.Size, metadata.Commit, downloaded, metadata.Sha256);
    }

    /// <summary>The file as a previous pull left it, or null.</summary>
    public PulledFile? FromCache(string repo, string file, string revision)
    {
        if (Cache.ResolveRevision(repo, revision) is not string commit)
        {
            return null;
        }
        string path = Cache.SnapshotPath(repo, commit, file);
        var info = new FileInfo(path);
        if (!info.Exists || (info.LinkTarget is not null && info.ResolveLinkTarget(true) is not { Exists: true }))
        {
            return null;
        }
        return new PulledFile(repo, file, path, HubCache.Length(info), commit, Downloaded: false, Sha256: null);
    }

    /// <summary>HEAD on the file's resolve URL: commit, ETag, size and download location, as huggingface_hub reads them.</summary>
    public async Task<HubFileMetadata> GetMetadataAsync(string repo, string file, string revision = "main", CancellationToken cancellationToken = default)
    {
        var url = new Uri(endpoint, $"{HubNames.CheckRepo(repo)}/resolve/{HubNames.EscapeRevision(revision)}/{HubNames.EscapeFile(file)}");
        string what = $"{repo}/{file}@{revision}";
        return await WithRetriesAsync(what, async () =>
        {
            for (int hop = 0; hop < 10; hop++)
            {
                using var request = NewRequest(HttpMethod.Head, url);
                request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
                using HttpResponseMessage response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                Uri? location = response.Headers.Location is Uri l ? (l.IsAbsoluteUri ? l : new Uri(url, l)) : null;
                if (IsRedirect(response.StatusCode) && location is not null && response.Headers.Location is { IsAbsoluteUri: false })
                {
                    url = location; // a renamed repository: the hub redirects within itself
                    continue;
                }
                if (!IsRedirect(response.StatusCode))
                {
                    ThrowIfFailed(response, what);
                }
                string commit = Header(response, "X-Repo-Commit") ?? throw new HubException(HubErrorKind.Protocol,
                    $"{what}: the server sent no X-Repo-Commit header; is {Options.Endpoint} a HuggingFace hub?");
                string? linked = Header(response, "X-Linked-Etag");
                string etag = NormalizeEtag(linked ?? response.Headers.ETag?.Tag ?? Header(response, "ETag")
                    ?? throw new HubException(HubErrorKind.Protocol, $"{what}: the server sent no ETag."));
                long size = long.TryParse(Header(response, "X-Linked-Size"), NumberStyles.None, CultureInfo.InvariantCulture, out long linkedSize) ? linkedSize
                    : response.Content.Headers.ContentLength ?? throw new HubException(HubErrorKind.Protocol, $"{what}: the server sent no size.");
                return new HubFileMetadata(repo, file, commit, etag, size, IsRedirect(response.StatusCode) && location is not null ? location : url, linked is not null);
            }
            throw new HubException(HubErrorKind.Protocol, $"{what}: more than 10 redirects.");
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The commit a revision points to and the repository's file names.</summary>
    public async Task<HubRepoInfo> GetRepoInfoAsync(string repo, string revision = "main", CancellationToken cancellationToken = default)
    {
        var url = new Uri(endpoint, $"api/models/{HubNames.CheckRepo(repo)}/revision/{HubNames.EscapeRevision(revision)}");
        string what = $"{repo}@{revision}";
        return await WithRetriesAsync(what, async () =>
        {
            using var request = NewRequest(HttpMethod.Get, url);
            using HttpResponseMessage response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            ThrowIfFailed(response, what);
            try
            {
                using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
                string commit = json.RootElement.GetProperty("sha").GetString() ?? "";
                var files = json.RootElement.GetProperty("siblings").EnumerateArray().Select(s => s.GetProperty("rfilename").GetString() ?? "").ToList();
                return new HubRepoInfo(repo, commit, files);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new HubException(HubErrorKind.Protocol, $"{what}: the repository listing is not the hub's JSON ({e.Message}).", e);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsComplete(string blob, long size) => new FileInfo(blob) is { Exists: true } f && f.Length == size;

    /// <summary>Downloads into blobs/{etag}.incomplete, verifies, then renames; a corrupt result is deleted and fetched once more from scratch.</summary>
    private async Task FetchVerifiedAsync(HubFileMetadata metadata, string blob, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string incomplete = blob + ".incomplete";
        for (int pass = 0; ; pass++)
        {
            await FetchAsync(metadata, incomplete, progress, cancellationToken).ConfigureAwait(false);
            string? problem = await VerifyAsync(metadata, incomplete, cancellationToken).ConfigureAwait(false);
            if (problem is null)
            {
                File.Move(incomplete, blob, overwrite: true);
                return;
            }
            File.Delete(incomplete);
            if (pass == 1)
            {
                throw new HubException(HubErrorKind.Corrupted, $"{metadata.Repo}/{metadata.File}: {problem} (twice; nothing was kept).");
            }
        }
    }

    private static async Task<string?> VerifyAsync(HubFileMetadata metadata, string path, CancellationToken cancellationToken)
    {
        long length = new FileInfo(path).Length;
        if (length != metadata.Size)
        {
            return $"received {length} bytes, the hub announced {metadata.Size}";
        }
        if (metadata.Sha256 is not string expected)
        {
            return null;
        }
        // Hashed after the download rather than while streaming, so a resumed download is checked whole.
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        string actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        return actual == expected ? null : $"SHA-256 {actual} does not match the hub's {expected}";
    }

    private async Task FetchAsync(HubFileMetadata metadata, string incomplete, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string what = $"{metadata.Repo}/{metadata.File}";
        await WithRetriesAsync(what, async () =>
        {
            long have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
            if (have > metadata.Size)
            {
                File.Delete(incomplete);
                have = 0;
            }
            if (have == metadata.Size)
            {
                if (!File.Exists(incomplete))
                {
                    await File.WriteAllBytesAsync(incomplete, [], cancellationToken).ConfigureAwait(false); // an empty file in the repository
                }
                return true;
            }
            Uri url = metadata.Location;
            for (int hop = 0; hop < 10; hop++)
            {
                using var request = NewRequest(HttpMethod.Get, url);
                request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
                if (have > 0)
                {
                    request.Headers.Range = new RangeHeaderValue(have, null);
                }
                using HttpResponseMessage response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (IsRedirect(response.StatusCode) && response.Headers.Location is Uri next)
                {
                    url = next.IsAbsoluteUri ? next : new Uri(url, next);
                    continue;
                }
                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    File.Delete(incomplete); // our partial file does not fit what the server has now
                    throw new IOException($"{what}: the server refused to resume at byte {have}; starting again.");
                }
                ThrowIfFailed(response, what);
                FileMode mode = FileMode.Append;
                if (response.StatusCode == HttpStatusCode.PartialContent)
                {
                    if (response.Content.Headers.ContentRange?.From is long from && from != have)
                    {
                        throw new HubException(HubErrorKind.Protocol, $"{what}: asked to resume at byte {have}, the server sent from {from}.");
                    }
                }
                else
                {
                    mode = FileMode.Create; // the server ignored Range: the body is the whole file
                    have = 0;
                }
                await using var file = new FileStream(incomplete, mode, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
                await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await CopyAsync(body, file, metadata, have, progress, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
                long got = file.Length;
                if (got < metadata.Size)
                {
                    throw new IOException($"{what}: the connection ended at byte {got} of {metadata.Size}.");
                }
                return true;
            }
            throw new HubException(HubErrorKind.Protocol, $"{what}: more than 10 redirects.");
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task CopyAsync(Stream body, FileStream file, HubFileMetadata metadata, long resumedFrom, IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[1 << 20];
        long received = resumedFrom;
        progress?.Report(new DownloadProgress(metadata.File, received, metadata.Size, resumedFrom));
        using var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            silence.CancelAfter(Options.ReadTimeout);
            int n;
            try
            {
                n = await body.ReadAsync(buffer, silence.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{metadata.File}: no data for {Options.ReadTimeout.TotalSeconds:F0} s at byte {received}.");
            }
            if (n == 0)
            {
                return;
            }
            if (received + n > metadata.Size)
            {
                throw new HubException(HubErrorKind.Corrupted, $"{metadata.Repo}/{metadata.File}: the server sent more than the announced {metadata.Size} bytes.");
            }
            await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            received += n;
            progress?.Report(new DownloadProgress(metadata.File, received, metadata.Size, resumedFrom));
        }
    }

    /// <summary>Runs <paramref name="attempt"/> until it succeeds, retrying dropped connections, timeouts, 5xx and 429 with backoff.</summary>
    private async Task<T> WithRetriesAsync<T>(string what, Func<Task<T>> attempt, CancellationToken cancellationToken)
    {
        TimeSpan delay = Options.RetryDelay;
        for (int i = 1; ; i++)
        {
            try
            {
                return await attempt().ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                if (i >= Options.MaxAttempts)
                {
                    throw new HubException(HubErrorKind.Unavailable, $"{what}: {Describe(e)} ({i} attempts against {Options.Endpoint}).", e);
                }
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay *= 2;
            }
        }
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HttpRequestException or IOException or TimeoutException => true,
        TransientStatusException => true,
        _ => false,
    };

    private static string Describe(Exception e) => e is HttpRequestException { InnerException: Exception inner } ? $"{e.Message} ({inner.Message})" : e.Message;

    /// <summary>SendAsync that gives up when the headers do not come within <see cref="HubOptions.ReadTimeout"/> (then retried).</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        silence.CancelAfter(Options.ReadTimeout);
        try
        {
            return await http.SendAsync(request, completion, silence.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{request.RequestUri}: no answer for {Options.ReadTimeout.TotalSeconds:F0} s.");
        }
    }

    private HttpRequestMessage NewRequest(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        if (Options.Token is string token && SameHost(url, endpoint))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }

    private static bool SameHost(Uri a, Uri b) =>
        string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port && a.Scheme == b.Scheme;

    private static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and < 400;

    private static void ThrowIfFailed(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        int status = (int)response.StatusCode;
        string? code = Header(response, "X-Error-Code");
        string? message = Header(response, "X-Error-Message");
        string detail = message is null ? $"HTTP {status}" : $"HTTP {status}: {message}";
        if (status >= 500 || status == 429)
        {
            throw new TransientStatusException($"{what}: the hub answered {detail}.");
        }
        throw code switch
        {
            "RepoNotFound" => new HubException(HubErrorKind.RepositoryNotFound,
                $"{what}: repository not found ({detail}). Check the name; for a private repository set HF_TOKEN."),
            "RevisionNotFound" => new HubException(HubErrorKind.RevisionNotFound, $"{what}: no such revision ({detail})."),
            "EntryNotFound" => new HubException(HubErrorKind.FileNotFound, $"{what}: no such file in the repository ({detail})."),
            "GatedRepo" => new HubException(HubErrorKind.Unauthorized,
                $"{what}: gated repository ({detail}). Accept its terms on the hub's page and set HF_TOKEN to a token of that account."),
            _ when status is 401 or 403 => new HubException(HubErrorKind.Unauthorized,
                $"{what}: access denied ({detail}). Set HF_TOKEN to a token with access."),
            _ when status == 404 => new HubException(HubErrorKind.FileNotFound, $"{what}: not found ({detail})."),
            _ => new HubException(HubErrorKind.Protocol, $"{what}: the hub answered {detail}."),
        };
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;

    private static string NormalizeEtag(string etag)
    {
        string e = etag.Trim();
        if (e.StartsWith("W/", StringComparison.Ordinal))
        {
            e = e[2..];
        }
        return e.Trim('"');
    }

    public void Dispose() => http.Dispose();

    private sealed class TransientStatusException(string message) : Exception(message);
}
