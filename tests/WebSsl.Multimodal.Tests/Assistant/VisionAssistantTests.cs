using WebSsl.Language.Fixtures;
using WebSsl.Multimodal.Adapters;
using WebSsl.Multimodal.Assistant;
using WebSsl.Vision.Fixtures;

namespace WebSsl.Multimodal.Tests.Assistant;

/// <summary>The assistant class everyone uses: images in, streamed answers out, with what was done reported.</summary>
public sealed class VisionAssistantTests(AssistantWorld world) : IClassFixture<AssistantWorld>
{
    [Fact]
    public async Task Each_chart_is_answered_with_its_trained_answer_and_the_answer_says_how_it_was_made()
    {
        await using VisionAssistant assistant = await world.LoadAsync();
        for (int i = 0; i < TrainingWorld.Answers.Length; i++)
        {
            using AssistantSession session = assistant.CreateSession();
            var events = new List<AssistantEvent>();
            await foreach (AssistantEvent e in session.AskAsync(new AssistantQuestion("what is this?") { Images = [AssistantImage.FromFile(world.Image(i))] }))
            {
                events.Add(e);
            }
            ImageReport image = Assert.IsType<ImageProcessed>(events[0]).Image;
            Assert.Equal((56, 42, 42, "pad", 9), (image.OriginalWidth, image.OriginalHeight, image.Resolution, image.Preprocess, image.Tokens));
            AssistantAnswer answer = Assert.IsType<AnswerCompleted>(events[^1]).Answer;
            Assert.Equal(TrainingWorld.Answers[i], answer.Text.Trim());
            Assert.Equal(string.Concat(events.OfType<TextDelta>().Select(t => t.Text)), answer.Text);
            Assert.Equal(9, answer.Metrics.ImageTokens);
            Assert.True(answer.Metrics.PrefillMilliseconds > 0 && answer.Metrics.FirstTokenMilliseconds >= answer.Metrics.ImageEncodeMilliseconds);
            Assert.Contains("42px pad, 9 tokens", answer.TimingLine);
        }
    }

    [Fact]
    public async Task The_same_image_asked_about_twice_is_encoded_once()
    {
        await using VisionAssistant assistant = await world.LoadAsync();
        using AssistantSession first = assistant.CreateSession(), second = assistant.CreateSession();
        var question = new AssistantQuestion("what is this?") { Images = [AssistantImage.FromFile(world.Image(3))] };
        AssistantAnswer a = await first.AnswerAsync(question);
        AssistantAnswer b = await second.AnswerAsync(question);
        Assert.Equal(1, assistant.EncodedImages);
        Assert.False(a.Images[0].FromCache);
        Assert.True(b.Images[0].FromCache);
        Assert.Equal(a.Text, b.Text);
    }

    [Fact]
    public async Task A_follow_up_in_a_session_reuses_the_image_and_history()
    {
        await using VisionAssistant assistant = await world.LoadAsync();
        using AssistantSession session = assistant.CreateSession();
        AssistantAnswer first = await session.AnswerAsync(new AssistantQuestion("what is this?") { Images = [AssistantImage.FromFile(world.Image(1))] });
        AssistantAnswer second = await session.AnswerAsync(new AssistantQuestion("and again?"));
        Assert.Equal(4, session.Messages.Count);
        Assert.True(second.Metrics.CachedPromptTokens >= first.Metrics.PromptTokens, $"{second.Metrics.CachedPromptTokens} cached of {first.Metrics.PromptTokens}");
        Assert.Equal(1, assistant.EncodedImages);
    }

    [Fact]
    public async Task Several_images_in_one_question_and_questions_arriving_together_share_encoder_passes()
    {
        await using VisionAssistant assistant = await world.LoadAsync(world.Options with { EncoderBatchWindow = TimeSpan.FromMilliseconds(300) });
        using AssistantSession session = assistant.CreateSession();
        AssistantAnswer both = await session.AnswerAsync(new AssistantQuestion("<image> or <image>?")
        {
            Images = [AssistantImage.FromFile(world.Image(0)), AssistantImage.FromFile(world.Image(1))],
        });
        Assert.Equal(2, both.Images.Count);
        Assert.Equal(18, both.Metrics.ImageTokens);
        Assert.Equal(1, assistant.EncoderPasses);

        AssistantSession[] sessions = [assistant.CreateSession(), assistant.CreateSession(), assistant.CreateSession()];
        await Task.WhenAll(sessions.Select((s, i) => s.AnswerAsync(new AssistantQuestion("what is this?") { Images = [AssistantImage.FromFile(world.Image(4 + i))] })));
        Assert.Equal(5, assistant.EncodedImages);
        Assert.True(assistant.EncoderPasses <= 2, $"{assistant.EncoderPasses} passes for three questions arriving together");
        Array.ForEach(sessions, s => s.Dispose());
    }

    [Fact]
    public async Task More_images_than_allowed_are_refused_before_any_work()
    {
        await using VisionAssistant assistant = await world.LoadAsync(world.Options with { MaxImagesPerTurn = 1 });
        using AssistantSession session = assistant.CreateSession();
        var error = await Assert.ThrowsAsync<BadInputException>(() => session.AnswerAsync(new AssistantQuestion("?")
        {
            Images = [AssistantImage.FromFile(world.Image(0)), AssistantImage.FromFile(world.Image(1))],
        }));
        Assert.Contains("2 images in one question; at most 1", error.Message);
        Assert.Equal(0, assistant.EncodedImages);
    }

    [Fact]
    public async Task A_resolution_is_refused_for_an_adapter_without_a_token_grid()
    {
        await using VisionAssistant assistant = await world.LoadAsync();
        using AssistantSession session = assistant.CreateSession();
        var error = await Assert.ThrowsAsync<BadInputException>(() => session.AnswerAsync(new AssistantQuestion("?") { Images = [AssistantImage.FromFile(world.Image(0))], Resolution = 56 }));
        Assert.Contains("without a token grid", error.Message);
    }

    [Fact]
    public async Task An_encoder_or_llm_other_than_the_adapters_is_refused_at_construction()
    {
        string otherEncoder = world.World.Sub("other-encoder");
        CheckpointGenerator.Write(otherEncoder, CheckpointGenerator.Dino(32, 3, 4, 42), new GeneratorOptions { Seed = 5 });
        var encoderError = await Assert.ThrowsAsync<AdapterMismatchException>(() => world.LoadAsync(world.Options with { EncoderPath = otherEncoder }));
        Assert.Contains(encoderError.Differences, d => d.StartsWith("encoder.config_hash"));

        string otherLlm = world.World.File("other-llm.gguf");
        TinyLlamaBuilder.WriteRandom(otherLlm, LlamaShape.Get("tiny") with { EmbeddingLength = 96 });
        var llmError = await Assert.ThrowsAsync<AdapterMismatchException>(() => world.LoadAsync(world.Options with { LlmPath = otherLlm }));
        Assert.Contains(llmError.Differences, d => d.StartsWith("llm.n_embd: the adapter was trained with 64, this one has 96"));
    }
}
