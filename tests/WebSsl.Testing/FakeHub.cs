using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace WebSsl.Testing;

/// <summary>
/// A HuggingFace hub on loopback that answers the way huggingface.co does: <c>/api/models/{repo}/revision/{rev}</c>
/// listings; <c>resolve</c> URLs that answer HEAD with X-Repo-Commit, ETag (git blob SHA-1 for small files) and, for LFS
/// files, a 302 to a CDN on another host name with X-Linked-Etag (SHA-256) and X-Linked-Size; X-Error-Code on errors;
/// a CDN that honors Range. Faults can be injected per file: a connection dropped mid-file, corrupted bytes, Range
/// ignored, 5xx answers.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, Repo> repos = new(StringComparer.Ordinal);

    public sealed record Repo(string Id, string Commit, Dictionary<string, byte[]> Files, bool Gated = false);

    public sealed record Request(string Method, string Host, string Path, string? Range, string? Authorization);

    /// <summary>Per-file faults, consumed as they fire.</summary>
    public sealed class Faults
    {
        public long DropAfterBytes { get; set; } = -1;
        public int DropTimes { get; set; }
        public int CorruptTimes { get; set; }
        public bool IgnoreRange { get; set; }
        public int ServerErrors { get; set; }
    }

    public ConcurrentQueue<Request> Requests { get; } = new();

    public ConcurrentDictionary<string, Faults> FileFaults { get; } = new(StringComparer.Ordinal);

    /// <summary>Bytes of file content sent by the CDN, per file name.</summary>
    public ConcurrentDictionary<string, long> BytesServed { get; } = new(StringComparer.Ordinal);

    public string Token { get; set; } = "hf_test_token";

    public long LfsThreshold { get; set; } = 1024;

    public int Port { get; private set; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    private FakeHub(WebApplication app) => this.app = app;

    public static async Task<FakeHub> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var hub = new FakeHub(app);
        app.Use(async (context, next) =>
        {
            hub.Requests.Enqueue(new Request(context.Request.Method, context.Request.Host.Host, context.Request.Path.Value ?? "",
                context.Request.Headers.Range.FirstOrDefault(), context.Request.Headers.Authorization.FirstOrDefault()));
            await next(context);
        });
        app.MapGet("/api/models/{owner}/{name}/revision/{revision}", hub.Listing);
        app.MapMethods("/{owner}/{name}/resolve/{revision}/{**path}", ["GET", "HEAD"], hub.Resolve);
        app.MapGet("/cdn/{owner}/{name}/{sha}", hub.Cdn);
        await app.StartAsync();
        hub.Port = new Uri(app.Urls.First()).Port;
        return hub;
    }

    public Repo Add(string id, IReadOnlyDictionary<string, byte[]> files, bool gated = false, string? commit = null)
    {
        var repo = new Repo(id, commit ?? Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(id + files.Count))), new Dictionary<string, byte[]>(files), gated);
        repos[id] = repo;
        return repo;
    }

    public Repo AddFolder(string id, string folder, bool gated = false) =>
        Add(id, Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), File.ReadAllBytes), gated);

    public Faults FaultsFor(string file) => FileFaults.GetOrAdd(file, _ => new Faults());

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The ETag git (and the hub) gives a small file: SHA-1 of "blob {length}\0" + content.</summary>
    public static string GitBlobSha1(byte[] content) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));

    public IEnumerable<Request> CdnRequests => Requests.Where(r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal));

    private IResult Listing(string owner, string name, string revision)
    {
        if (!repos.TryGetValue($"{owner}/{name}", out Repo? repo))
        {
            return Error(401, "RepoNotFound", "Repository not found");
        }
        if (revision != "main" && revision != repo.Commit)
        {
            return Error(404, "RevisionNotFound", $"Invalid rev id: {revision}");
        }
        return Results.Json(new { id = repo.Id, sha = repo.Commit, siblings = repo.Files.Keys.Order(StringComparer.Ordinal).Select(f => new { rfilename = f }) });
    }

    private async Task Resolve(HttpContext context, string owner, string name, string revision, string path)
    {
        if (owner.StartsWith("old-", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 307; // a renamed owner: the hub redirects to the new name, relative to itself
            context.Response.Headers.Location = $"/{owner[4..]}/{name}/resolve/{Uri.EscapeDataString(revision)}/{path}";
            return;
        }
        if (!repos.TryGetValue($"{owner}/{name}", out Repo? repo))
        {
            await Error(401, "RepoNotFound", "Repository not found").ExecuteAsync(context);
            return;
        }
        if (repo.Gated && context.Request.Headers.Authorization.FirstOrDefault() != $"Bearer {Token}")
        {
            await Error(401, "GatedRepo", "Access to this model is restricted").ExecuteAsync(context);
            return;
        }
        if (revision != "main" && revision != repo.Commit)
        {
            await Error(404, "RevisionNotFound", $"Invalid rev id: {revision}").ExecuteAsync(context);
            return;
        }
        if (!repo.Files.TryGetValue(path, out byte[]? content))
        {
            await Error(404, "EntryNotFound", $"{path} does not exist").ExecuteAsync(context);
            return;
        }
        if (FileFaults.TryGetValue(path, out Faults? faults) && faults.ServerErrors > 0 && context.Request.Method == "HEAD")
        {
            faults.ServerErrors--;
            context.Response.StatusCode = 503;
            return;
        }
        context.Response.Headers["X-Repo-Commit"] = repo.Commit;
        if (content.Length >= LfsThreshold)
        {
            string sha = Sha256(content);
            context.Response.StatusCode = 302;
            context.Response.Headers["X-Linked-Etag"] = $"\"{sha}\"";
            context.Response.Headers["X-Linked-Size"] = content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers.ETag = $"\"{sha}\"";
            // Another host name for the same server, as the hub's CDN is: the token must not follow the redirect.
            context.Response.Headers.Location = $"http://localhost:{Port}/cdn/{owner}/{name}/{sha}?file={Uri.EscapeDataString(path)}";
            return;
        }
        context.Response.Headers.ETag = $"\"{GitBlobSha1(content)}\"";
        context.Response.ContentLength = content.Length;
        if (context.Request.Method == "GET")
        {
            await context.Response.Body.WriteAsync(content);
        }
    }

    private async Task Cdn(HttpContext context, string owner, string name, string sha)
    {
        string file = context.Request.Query["file"].ToString();
        if (!repos.TryGetValue($"{owner}/{name}", out Repo? repo) || !repo.Files.TryGetValue(file, out byte[]? content) || Sha256(content) != sha)
        {
            context.Response.StatusCode = 404;
            return;
        }
        Faults faults = FaultsFor(file);
        if (faults.ServerErrors > 0)
        {
            faults.ServerErrors--;
            context.Response.StatusCode = 502;
            return;
        }
        byte[] body = content;
        if (faults.CorruptTimes > 0)
        {
            faults.CorruptTimes--;
            body = [.. content];
            body[body.Length / 2] ^= 0x5A;
        }
        long start = 0;
        string? range = context.Request.Headers.Range.FirstOrDefault();
        if (range is not null && !faults.IgnoreRange && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range[6..^1], System.Globalization.CultureInfo.InvariantCulture);
            if (start >= body.Length)
            {
                context.Response.StatusCode = 416;
                return;
            }
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {start}-{body.Length - 1}/{body.Length}";
        }
        context.Response.Headers.ETag = $"\"{sha}\"";
        context.Response.ContentLength = body.Length - start;
        if (faults.DropTimes > 0 && faults.DropAfterBytes >= 0)
        {
            faults.DropTimes--;
            int n = (int)Math.Min(faults.DropAfterBytes, body.Length - start);
            await context.Response.Body.WriteAsync(body.AsMemory((int)start, n));
            await context.Response.Body.FlushAsync();
            BytesServed.AddOrUpdate(file, n, (_, v) => v + n);
            context.Abort(); // the connection drops mid-file
            return;
        }
        // Counted before writing: the client may have read the last byte and finished before WriteAsync returns here.
        BytesServed.AddOrUpdate(file, body.Length - start, (_, v) => v + body.Length - start);
        await context.Response.Body.WriteAsync(body.AsMemory((int)start));
    }

    private static IResult Error(int status, string code, string message) => new ErrorResult(status, code, message);

    private sealed class ErrorResult(int status, string code, string message) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.Headers["X-Error-Code"] = code;
            context.Response.Headers["X-Error-Message"] = message;
            return Task.CompletedTask;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
