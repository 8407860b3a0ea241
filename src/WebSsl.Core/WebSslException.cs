namespace WebSsl;

/// <summary>
/// The one family of errors whose messages are meant for the person who caused or met them: each names the thing and
/// the rule, and carries a <see cref="ProblemKind"/> and a stable code (kebab-case, the same in every surface: the
/// problem type, the hub's error code, the OpenAI error code).
/// </summary>
public abstract class WebSslException(ProblemKind kind, string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public ProblemKind Kind { get; } = kind;

    public string Code { get; } = code;
}

/// <summary>A request, command, setting or data file that breaks a rule; the message names the thing and the rule.</summary>
public sealed class BadInputException(string message, string code = "bad-request", Exception? inner = null)
    : WebSslException(ProblemKind.BadInput, code, message, inner);

/// <summary>Something named that does not exist.</summary>
public sealed class NotFoundException(string message, string code = "not-found", Exception? inner = null)
    : WebSslException(ProblemKind.NotFound, code, message, inner);

/// <summary>A request refused by a rule of its own kind and code (for rules that have no exception type of their own).</summary>
public sealed class RequestRefusedException(ProblemKind kind, string code, string message) : WebSslException(kind, code, message);

/// <summary>A model file that is damaged or not what it claims (an adapter manifest, a training checkpoint).</summary>
public sealed class InvalidModelException(string message, string code = "invalid-model", Exception? inner = null)
    : WebSslException(ProblemKind.InvalidModel, code, message, inner);

/// <summary>A setting or configuration file of the program that cannot be used.</summary>
public sealed class ConfigurationException(string message, string code = "configuration", Exception? inner = null)
    : WebSslException(ProblemKind.Configuration, code, message, inner);
