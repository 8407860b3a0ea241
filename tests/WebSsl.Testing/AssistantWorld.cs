using WebSsl.Assistant.SemanticKernel;
using WebSsl.Language;
using WebSsl.Multimodal.Assistant;
using WebSsl.Training.Runs;
using WebSsl.Vision;

namespace WebSsl.Testing;

/// <summary>
/// The tiny training world plus an adapter trained on it — with the general task's system prompt, as a user would train
/// an adapter meant to be served with it — so the assistant's answers are known: chart-i.png is answered Answers[i].
/// </summary>
public sealed class AssistantWorld : IAsyncLifetime
{
    public TrainingWorld World { get; } = new();

    public string AdapterDirectory => Path.Combine(World.Root, "adapter");

    public SemanticKernelTaskPrompts Prompts { get; } = SemanticKernelTaskPrompts.Load();

    public string Image(int i) => Path.Combine(World.ImageDirectory, $"chart-{i}.png");

    public AssistantOptions Options => new()
    {
        EncoderPath = World.EncoderDirectory,
        LlmPath = World.LlmPath,
        AdapterPath = AdapterDirectory,
        Engine = new() { MaxSessions = 4, ContextSize = 2048, MaxSessionTokens = 512 },
    };

    public async Task InitializeAsync()
    {
        TaskPrompt general = await Prompts.RenderAsync(AssistantTask.General, "x");
        using VisionEncoder encoder = World.LoadEncoder();
        using LanguageModel llm = World.LoadLlm();
        await Trainer.RunAsync(new TrainingInputs
        {
            DataFile = World.DataFile,
            ImageDirectory = World.ImageDirectory,
            OutputDirectory = AdapterDirectory,
            Encoder = encoder,
            Llm = llm,
            SystemPrompt = general.System,
        }, new TrainingOptions { MaxSteps = 200, BatchSize = 8, LearningRate = 5e-3, WarmupRatio = 0.05, CheckpointEvery = 1000, ValidateEvery = 1000 });
    }

    public Task<VisionAssistant> LoadAsync(AssistantOptions? options = null) => VisionAssistant.LoadAsync(options ?? Options, Prompts);

    public Task DisposeAsync()
    {
        World.Dispose();
        return Task.CompletedTask;
    }
}
