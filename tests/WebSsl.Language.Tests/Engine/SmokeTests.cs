using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Tests.Engine;

public sealed class SmokeTests(TinyModels models) : IClassFixture<TinyModels>
{
    [Fact]
    public async Task A_generated_model_loads_and_answers_a_chat_prompt()
    {
        using var engine = LanguageEngine.Create(models.RandomLlama, new EngineOptions { MaxSessions = 2, ContextSize = 2048, MaxSessionTokens = 1024 });
        PromptBuilder builder = TinyModels.Builder(models.RandomLlama);
        Prompt prompt = builder.Build([ChatTurn.User("what is the value of the bar?")]);
        using ChatSession session = engine.CreateSession();
        GenerationResult result = await engine.CompleteAsync(session, prompt, SamplingOptions.Greedy with { MaxTokens = 12 });
        Assert.True(result.Usage.GeneratedTokens > 0);
        Assert.Equal(prompt.Length, result.Usage.PromptTokens);
    }
}
