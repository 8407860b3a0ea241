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

public sealed class HubException(HubErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public HubErrorKind Kind { get; } = kind;
}
