namespace WebSsl.HuggingFace;

/// <summary>
/// Where the hub is and where files go, with the same environment variables as huggingface_hub, so a cache filled by
/// <c>huggingface-cli download</c> or transformers is found and reused.
/// </summary>
public sealed record HubOptions
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The hub (or a mirror): <c>HF_ENDPOINT</c>.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Bearer token for gated and private repositories: <c>HF_TOKEN</c>, or the file <c>huggingface-cli login</c> writes.</summary>
    public string? Token { get; init; }

    /// <summary>The cache root that holds <c>models--org--name</c> folders: <c>HF_HUB_CACHE</c>, <c>$HF_HOME/hub</c> or <c>~/.cache/huggingface/hub</c>.</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory(Environment.GetEnvironmentVariable);

    /// <summary>Use only what is cached: <c>HF_HUB_OFFLINE=1</c>.</summary>
    public bool Offline { get; init; }

    /// <summary>Attempts per file for transient failures (dropped connections, 5xx, 429), each resuming where the last stopped.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>First pause between attempts; doubles each time.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest silence from the server before a request is treated as dropped.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public static HubOptions FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>Options from environment variables read through <paramref name="env"/> (tests pass their own).</summary>
    public static HubOptions FromEnvironment(Func<string, string?> env)
    {
        string endpoint = NonEmpty(env("HF_ENDPOINT")) ?? DefaultEndpoint;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new BadInputException($"HF_ENDPOINT '{endpoint}' is not an http(s) URL.");
        }
        return new HubOptions
        {
            Endpoint = endpoint.TrimEnd('/'),
            Token = NonEmpty(env("HF_TOKEN")) ?? NonEmpty(env("HUGGING_FACE_HUB_TOKEN")) ?? TokenFromFile(env),
            CacheDirectory = DefaultCacheDirectory(env),
            Offline = IsTrue(env("HF_HUB_OFFLINE")),
        };
    }

    public static string DefaultCacheDirectory(Func<string, string?> env)
    {
        if (NonEmpty(env("HF_HUB_CACHE")) is string hubCache)
        {
            return Expand(hubCache, env);
        }
        return Path.Combine(HfHome(env), "hub");
    }

    private static string HfHome(Func<string, string?> env)
    {
        if (NonEmpty(env("HF_HOME")) is string home)
        {
            return Expand(home, env);
        }
        string cache = NonEmpty(env("XDG_CACHE_HOME")) ?? Path.Combine(UserHome(env), ".cache");
        return Path.Combine(Expand(cache, env), "huggingface");
    }

    private static string? TokenFromFile(Func<string, string?> env)
    {
        string path = NonEmpty(env("HF_TOKEN_PATH")) is string p ? Expand(p, env) : Path.Combine(HfHome(env), "token");
        try
        {
            return File.Exists(path) ? NonEmpty(File.ReadAllText(path).Trim()) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string UserHome(Func<string, string?> env) =>
        NonEmpty(env("HOME")) ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    private static string Expand(string path, Func<string, string?> env) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal) ? UserHome(env) + path[1..] : path;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool IsTrue(string? value) => value?.Trim().ToLowerInvariant() is "1" or "true" or "yes" or "on";
}
