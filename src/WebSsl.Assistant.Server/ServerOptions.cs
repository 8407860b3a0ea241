namespace WebSsl.Assistant.Server;

/// <summary>The server's own settings (section "Server"); the assistant's are in "WebSslAssistant".</summary>
public sealed record ServerOptions
{
    public const string Section = "Server";

    /// <summary>Where the server listens when neither --urls nor ASPNETCORE_URLS says otherwise: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>
    /// Required when the server listens on anything but loopback; when set it is checked on the hub, the image and
    /// conversation API and the OpenAI API (Authorization: Bearer KEY or X-Api-Key: KEY; on the hub also
    /// ?access_token=KEY, which browsers' WebSockets need). Without it, only loopback Host names and same-origin pages are served.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>Conversations database and uploaded images live here.</summary>
    public string DataDirectory { get; set; } = ".webssl";

    /// <summary>Answer streams one connection (one browser tab, one client) may have open at once.</summary>
    public int MaxStreamsPerConnection { get; set; } = 2;

    /// <summary>
    /// Largest OpenAI API request body, in bytes. Its images come inline as base64 (4/3 of their size) and the body is
    /// parsed whole, so this bounds the memory one request can take. Default: two images at the per-image byte limit,
    /// as base64, plus 1 MiB of text (86 MiB with the default 32 MiB per image).
    /// </summary>
    public long? MaxRequestBytes { get; set; }

    /// <summary>The body limit in force: <see cref="MaxRequestBytes"/> or its default for these image limits.</summary>
    public long RequestBodyLimit(WebSsl.Vision.Images.ImageLimits images) => MaxRequestBytes ?? images.MaxBytes * 2 * 4 / 3 + 1024 * 1024;

    /// <summary>Origins allowed to call the server from other sites' pages; none (CORS off) by default.</summary>
    public string[] CorsOrigins { get; set; } = [];

    /// <summary>The model id reported by the OpenAI API; default: "webssl-" + the adapter folder's name.</summary>
    public string? ModelName { get; set; }

    /// <summary>
    /// A notice about the model that the browser app shows above the conversation, e.g. that the demo model was trained
    /// only on synthetic charts; null for none.
    /// </summary>
    public string? ModelNotice { get; set; }

    /// <summary>
    /// Examples the browser app offers (a JSON list of { image, question, answer, category }, images relative to the
    /// file): one click asks one, and the page shows the ground truth beside the answer. The demo sets it; null for none.
    /// </summary>
    public string? ExamplesFile { get; set; }

    /// <summary>Folder of the browser app; default: the one shipped next to the server.</summary>
    public string? WebRoot { get; set; }
}
