namespace WebSsl.HuggingFace;

/// <summary>What went wrong talking to the hub, in words a user can act on.</summary>
public enum HubErrorKind
{
    /// <summary>The repository does not exist, or is private and no token allows seeing it.</summary>
    RepositoryNotFound,

    /// <summary>The repository exists, but not this revision.</summary>
    RevisionNotFound,

    /// <summary>The repository exists, but not this file.</summary>
    FileNotFound,

    /// <summary>Gated or private: a token with access is needed (HF_TOKEN).</summary>
    Unauthorized,

    /// <summary>What arrived is not what the hub said it would be (size or SHA-256).</summary>
    Corrupted,

    /// <summary>The hub could not be reached, or kept failing, and nothing usable is cached.</summary>
    Unavailable,

    /// <summary>The hub answered something this client cannot use (missing headers, bad JSON).</summary>
    Protocol,
}

public sealed class HubException(HubErrorKind kind, string message, Exception? inner = null) : WebSslException(KindOf(kind), CodeOf(kind), message, inner)
{
    public new HubErrorKind Kind { get; } = kind;

    private static ProblemKind KindOf(HubErrorKind kind) => kind switch
    {
        HubErrorKind.RepositoryNotFound or HubErrorKind.RevisionNotFound or HubErrorKind.FileNotFound => ProblemKind.NotFound,
        HubErrorKind.Unauthorized => ProblemKind.Unauthorized,
        _ => ProblemKind.Unavailable,
    };

    private static string CodeOf(HubErrorKind kind) => kind switch
    {
        HubErrorKind.RepositoryNotFound => "hub-repository-not-found",
        HubErrorKind.RevisionNotFound => "hub-revision-not-found",
        HubErrorKind.FileNotFound => "hub-file-not-found",
        HubErrorKind.Unauthorized => "hub-unauthorized",
        HubErrorKind.Corrupted => "hub-corrupted",
        HubErrorKind.Unavailable => "hub-unavailable",
        _ => "hub-protocol",
    };
}
