using System.Text;
using System.Text.Json;
using LLama;
using LLama.Exceptions;

namespace WebSsl.Language.Prompting;

/// <summary>A model whose chat template cannot be used as it is; says which templates can be chosen instead.</summary>
public sealed class ChatTemplateException(string message, Exception? inner = null) : WebSslException(ProblemKind.InvalidModel, "chat-template", message, inner);

/// <summary>Renders a conversation (roles and text) into the prompt text a model was trained on.</summary>
public abstract class ChatTemplate
{
    public abstract string Name { get; }

    public abstract string Render(IReadOnlyList<(ChatRole Role, string Content)> messages, bool addGenerationPrompt);

    /// <summary>The folder of template files shipped with the application (prompts/chat-templates).</summary>
    public static string TemplateFolder => Path.Combine(AppContext.BaseDirectory, "prompts", "chat-templates");

    /// <summary>
    /// The model's own template (its GGUF <c>tokenizer.chat_template</c>, rendered by llama.cpp), or the named template
    /// file when <paramref name="name"/> is given. A model whose template llama.cpp does not recognize needs a name.
    /// </summary>
    public static ChatTemplate For(LanguageModel model, string? name = null)
    {
        if (name is not null)
        {
            return FileChatTemplate.Load(name);
        }
        if (model.ChatTemplateSource is null)
        {
            throw new ChatTemplateException(
                $"{model.Path}: has no tokenizer.chat_template; choose one of the templates in {TemplateFolder} ({string.Join(", ", FileChatTemplate.Available())}).");
        }
        try
        {
            var probe = new LlamaCppChatTemplate(model.ChatTemplateSource);
            probe.Render([(ChatRole.User, "probe")], addGenerationPrompt: true);
            return probe;
        }
        catch (Exception e) when (e is MissingTemplateException or TemplateNotFoundException or RuntimeError)
        {
            throw new ChatTemplateException(
                $"{model.Path}: llama.cpp does not recognize this model's chat template; choose one of the templates in {TemplateFolder} " +
                $"({string.Join(", ", FileChatTemplate.Available())}).", e);
        }
    }
}

/// <summary>
/// The GGUF's own template as llama.cpp renders it (llama.cpp matches known templates; it does not run Jinja). The
/// template text is the GGUF's <c>tokenizer.chat_template</c> as our reader parsed it, not fetched back from the native
/// model: LLamaSharp's <c>GetTemplate</c> looks for the end of the native string in a span of int.MaxValue bytes, and the
/// vectorized search can read past it into an unmapped page (an AccessViolation seen once in the server tests).
/// </summary>
public sealed class LlamaCppChatTemplate(string source) : ChatTemplate
{
    public override string Name => "gguf";

    public override string Render(IReadOnlyList<(ChatRole Role, string Content)> messages, bool addGenerationPrompt)
    {
        var template = new LLamaTemplate(source) { AddAssistant = addGenerationPrompt };
        foreach (var (role, content) in messages)
        {
            template.Add(role.ToString().ToLowerInvariant(), content);
        }
        return Encoding.UTF8.GetString(template.Apply());
    }
}

/// <summary>A template from prompts/chat-templates/NAME.json: per-role message formats with a {content} slot.</summary>
public sealed class FileChatTemplate : ChatTemplate
{
    private readonly Dictionary<ChatRole, string> _formats;
    private readonly string _generationPrompt;

    private FileChatTemplate(string name, Dictionary<ChatRole, string> formats, string generationPrompt)
    {
        Name = name;
        _formats = formats;
        _generationPrompt = generationPrompt;
    }

    public override string Name { get; }

    public static IEnumerable<string> Available() =>
        Directory.Exists(TemplateFolder) ? Directory.EnumerateFiles(TemplateFolder, "*.json").Select(Path.GetFileNameWithoutExtension).Order()! : [];

    public static FileChatTemplate Load(string nameOrPath)
    {
        string path = File.Exists(nameOrPath) ? nameOrPath : Path.Combine(TemplateFolder, nameOrPath + ".json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"chat template '{nameOrPath}' not found; available: {string.Join(", ", Available())}.", path);
        }
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement root = json.RootElement;
        var formats = new Dictionary<ChatRole, string>();
        foreach (ChatRole role in Enum.GetValues<ChatRole>())
        {
            string key = role.ToString().ToLowerInvariant();
            string format = root.GetProperty("messages").TryGetProperty(key, out JsonElement f) ? f.GetString()! : "";
            if (!format.Contains("{content}", StringComparison.Ordinal))
            {
                throw new ChatTemplateException($"{path}: messages.{key} must contain {{content}}.");
            }
            formats[role] = format;
        }
        string generation = root.TryGetProperty("generation_prompt", out JsonElement g) ? g.GetString() ?? "" : "";
        return new FileChatTemplate(root.TryGetProperty("name", out JsonElement n) ? n.GetString()! : Path.GetFileNameWithoutExtension(path), formats, generation);
    }

    public override string Render(IReadOnlyList<(ChatRole Role, string Content)> messages, bool addGenerationPrompt)
    {
        var text = new StringBuilder();
        foreach (var (role, content) in messages)
        {
            text.Append(_formats[role].Replace("{content}", content, StringComparison.Ordinal));
        }
        if (addGenerationPrompt)
        {
            text.Append(_generationPrompt);
        }
        return text.ToString();
    }
}
