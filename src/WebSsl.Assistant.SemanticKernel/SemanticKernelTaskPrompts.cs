using System.Xml.Linq;
using Microsoft.SemanticKernel;
using WebSsl.Multimodal.Assistant;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace WebSsl.Assistant.SemanticKernel;

/// <summary>
/// Task prompts from prompts/tasks/{general,ocr,chart,document}.yaml, Semantic Kernel prompt-template files rendered by
/// Semantic Kernel. A template holds &lt;message role="system"&gt; and &lt;message role="user"&gt; elements, SK's chat
/// prompt syntax; the question is a template variable, so SK encodes it and a question cannot forge messages.
/// (Microsoft.SemanticKernel.Yaml is not available to this build; YamlDotNet reads the same file format.)
/// </summary>
public sealed class SemanticKernelTaskPrompts : ITaskPrompts
{
    private readonly Dictionary<AssistantTask, IPromptTemplate> _templates;
    private readonly Kernel _kernel = new();

    private SemanticKernelTaskPrompts(Dictionary<AssistantTask, IPromptTemplate> templates, IReadOnlyDictionary<AssistantTask, PromptTemplateConfig> configs)
    {
        _templates = templates;
        Configs = configs;
    }

    /// <summary>The folder shipped with the application.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "prompts", "tasks");

    public IReadOnlyDictionary<AssistantTask, PromptTemplateConfig> Configs { get; }

    public static SemanticKernelTaskPrompts Load(string? directory = null)
    {
        directory ??= DefaultDirectory;
        var factory = new KernelPromptTemplateFactory();
        var templates = new Dictionary<AssistantTask, IPromptTemplate>();
        var configs = new Dictionary<AssistantTask, PromptTemplateConfig>();
        foreach (AssistantTask task in Enum.GetValues<AssistantTask>())
        {
            string path = Path.Combine(directory, task.ToString().ToLowerInvariant() + ".yaml");
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"task prompt for '{task}' not found: {path}.", path);
            }
            PromptTemplateConfig config = ReadYaml(path);
            configs[task] = config;
            templates[task] = factory.Create(config);
        }
        return new SemanticKernelTaskPrompts(templates, configs);
    }

    /// <summary>Reads Semantic Kernel's YAML prompt format (name, description, template_format, template, input_variables).</summary>
    public static PromptTemplateConfig ReadYaml(string path)
    {
        var yaml = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).IgnoreUnmatchedProperties().Build()
            .Deserialize<YamlPrompt>(File.ReadAllText(path)) ?? throw new ConfigurationException($"{path}: empty prompt file.", "prompt-file");
        if (string.IsNullOrWhiteSpace(yaml.Template))
        {
            throw new ConfigurationException($"{path}: the prompt has no template.", "prompt-file");
        }
        var config = new PromptTemplateConfig
        {
            Name = yaml.Name,
            Description = yaml.Description,
            Template = yaml.Template,
            TemplateFormat = yaml.TemplateFormat ?? PromptTemplateConfig.SemanticKernelTemplateFormat,
        };
        foreach (YamlVariable variable in yaml.InputVariables ?? [])
        {
            config.InputVariables.Add(new InputVariable
            {
                Name = variable.Name!,
                Description = variable.Description,
                IsRequired = variable.IsRequired ?? true,
                Default = variable.Default,
            });
        }
        return config;
    }

    public async ValueTask<TaskPrompt> RenderAsync(AssistantTask task, string question, CancellationToken cancellationToken = default)
    {
        // An empty question takes the template's default (e.g. "Transcribe all the text in the image." for ocr).
        object? fallback = Configs[task].InputVariables.FirstOrDefault(v => v.Name == "question")?.Default;
        var arguments = new KernelArguments { ["question"] = question.Trim().Length > 0 ? question : fallback?.ToString() ?? "" };
        string rendered = await _templates[task].RenderAsync(_kernel, arguments, cancellationToken).ConfigureAwait(false);
        XElement root = XElement.Parse($"<messages>{rendered}</messages>");
        string? Message(string role) => root.Elements("message").FirstOrDefault(m => (string?)m.Attribute("role") == role)?.Value.Trim();
        return new TaskPrompt(Message("system"), Message("user") ?? question);
    }

    private sealed class YamlPrompt
    {
        public string? Name { get; set; }
        public string? Description { get; set; }
        public string? TemplateFormat { get; set; }
        public string? Template { get; set; }
        public List<YamlVariable>? InputVariables { get; set; }
    }

    private sealed class YamlVariable
    {
        public string? Name { get; set; }
        public string? Description { get; set; }
        public bool? IsRequired { get; set; }
        public object? Default { get; set; }
    }
}
