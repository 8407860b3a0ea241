using System.CommandLine;
using WebSsl.Language;
using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary>Options shared by the commands that talk to an LLM: the model file, its chat template, and sampling.</summary>
internal sealed class LlmOptions(bool requireLlm = true)
{
    public Option<FileInfo> Llm { get; } = new("--llm") { Description = "GGUF model file (any model llama.cpp runs).", Required = requireLlm };
    public Option<string?> Template { get; } = new("--template") { Description = "Chat template from prompts/chat-templates (default: the model's own)." };
    public Option<string?> System { get; } = new("--system") { Description = "System prompt." };
    public Option<float> Temperature { get; } = new("--temperature") { DefaultValueFactory = _ => 0f, Description = "0 = greedy (default: the most likely reading every time)." };
    public Option<float> TopP { get; } = new("--top-p") { DefaultValueFactory = _ => 0.95f };
    public Option<int> TopK { get; } = new("--top-k") { DefaultValueFactory = _ => 40 };
    public Option<float> MinP { get; } = new("--min-p") { DefaultValueFactory = _ => 0.05f };
    public Option<float> RepeatPenalty { get; } = new("--repeat-penalty") { DefaultValueFactory = _ => 1.0f };
    public Option<uint?> Seed { get; } = new("--seed") { Description = "Fixed seed for reproducible sampling." };
    public Option<int> MaxTokens { get; } = new("--max-tokens") { DefaultValueFactory = _ => 512 };
    public Option<string[]> Stop { get; } = new("--stop") { Description = "Stop string (repeatable).", AllowMultipleArgumentsPerToken = false };
    public Option<int?> Threads { get; } = SharedOptions.Threads();
    public Option<int> Context { get; } = new("--context") { DefaultValueFactory = _ => 4096, Description = "Tokens one conversation may hold." };
    public Option<int> GpuLayers { get; } = new("--gpu-layers") { DefaultValueFactory = _ => 0, Description = "Layers offloaded to the GPU (CUDA builds)." };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Llm, Template, System, Temperature, TopP, TopK, MinP, RepeatPenalty, Seed, MaxTokens, Stop, Threads, Context, GpuLayers })
        {
            command.Add(option);
        }
    }

    public SamplingOptions Sampling(ParseResult parse) => new()
    {
        Temperature = parse.GetValue(Temperature),
        TopP = parse.GetValue(TopP),
        TopK = parse.GetValue(TopK),
        MinP = parse.GetValue(MinP),
        RepetitionPenalty = parse.GetValue(RepeatPenalty),
        Seed = parse.GetValue(Seed),
        MaxTokens = parse.GetValue(MaxTokens),
        Stop = parse.GetValue(Stop) ?? [],
    };

    /// <summary>Loads the model and starts a one-session engine with its prompt builder.</summary>
    public (LanguageModel Model, LanguageEngine Engine, PromptBuilder Builder) Open(ParseResult parse)
    {
        LanguageModel model = LanguageModel.Load(parse.GetValue(Llm)!.FullName, new LanguageModelOptions { GpuLayers = parse.GetValue(GpuLayers) });
        try
        {
            int context = parse.GetValue(Context);
            var engine = LanguageEngine.Create(model, new EngineOptions
            {
                MaxSessions = 1,
                MaxQueue = 0,
                ContextSize = context,
                MaxSessionTokens = context,
                Threads = parse.GetValue(Threads),
            });
            return (model, engine, new PromptBuilder(ChatTemplate.For(model, parse.GetValue(Template)), model));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
