using WebSsl.Language.Engine;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Tests.Prompting;

public sealed class PromptBuilderTests(TinyModels models) : IClassFixture<TinyModels>
{
    private static ImageEmbedding Image(int tokens, float seed) =>
        new(Enumerable.Range(0, tokens * 64).Select(i => MathF.Cos(i * seed)).ToArray(), 64);

    [Fact]
    public void The_gguf_template_renders_ChatML_and_control_tokens_become_single_tokens()
    {
        LanguageModel model = models.RandomLlama;
        PromptBuilder builder = TinyModels.Builder(model);
        Prompt prompt = builder.Build([ChatTurn.System("you are helpful"), ChatTurn.User("what is the total?")]);
        var tokens = ((TokenSegment)Assert.Single(prompt.Segments)).Tokens;
        Assert.Equal(models.Vocabulary.Bos, tokens[0]);
        Assert.Equal(models.Vocabulary.ImStart, tokens[1]);
        Assert.Equal(3, tokens.Count(t => t == models.Vocabulary.ImStart)); // system, user, and the generation prompt
        Assert.Equal(models.Vocabulary.Byte((byte)'\n'), tokens[^1]);
        string text = string.Concat(tokens.Skip(1).Select(model.TokenText));
        Assert.Equal("<|im_start|>system\nyou are helpful<|im_end|>\n<|im_start|>user\nwhat is the total?<|im_end|>\n<|im_start|>assistant\n",
            text.Replace("\u2581", " ", StringComparison.Ordinal).Replace("<0x0A>", "\n", StringComparison.Ordinal));
    }

    [Fact]
    public void Our_ChatML_template_file_gives_the_same_tokens_as_llama_cpps_rendering()
    {
        LanguageModel model = models.RandomLlama;
        ChatTurn[] turns = [ChatTurn.System("be brief"), ChatTurn.User("hello"), ChatTurn.Assistant("hello"), ChatTurn.User("what is the chart?")];
        Prompt fromGguf = TinyModels.Builder(model).Build(turns);
        Prompt fromFile = new PromptBuilder(ChatTemplate.For(model, "chatml"), model).Build(turns);
        Assert.Equal(((TokenSegment)fromGguf.Segments[0]).Tokens, ((TokenSegment)fromFile.Segments[0]).Tokens);
    }

    [Fact]
    public void Images_go_where_the_markers_are_and_the_rest_go_first_each_on_its_own_line()
    {
        LanguageModel model = models.RandomLlama;
        ImageEmbedding a = Image(3, 0.1f), b = Image(2, 0.2f), c = Image(4, 0.3f);
        Prompt prompt = TinyModels.Builder(model).Build([ChatTurn.User("compare <image> with the total", a, b, c)]);
        // a (no marker left for it) first, then the text up to the marker, b at the marker... c has no marker either:
        // two images lack markers (a, b) and go first; c takes the one marker.
        var kinds = prompt.Segments.Select(s => s is EmbeddingSegment e ? (e.Image == a ? "a" : e.Image == b ? "b" : "c") : "text").ToList();
        Assert.Equal(["text", "a", "text", "b", "text", "c", "text"], kinds);
        Assert.Equal(9, prompt.ImageTokens);
        Assert.Equal(models.Vocabulary.Byte((byte)'\n'), ((TokenSegment)prompt.Segments[2]).Tokens[0]);
    }

    [Fact]
    public void More_markers_than_images_is_an_error()
    {
        var error = Assert.Throws<BadInputException>(() => TinyModels.Builder(models.RandomLlama).Build([ChatTurn.User("<image> and <image>", Image(1, 1))]));
        Assert.Contains("2 <image> markers but only 1 images", error.Message);
    }

    [Fact]
    public void A_pinned_answer_is_used_verbatim_and_the_next_prompt_extends_the_previous_one()
    {
        LanguageModel model = models.RandomLlama;
        PromptBuilder builder = TinyModels.Builder(model);
        ImageEmbedding chart = Image(5, 0.7f);
        ChatTurn question = ChatTurn.User("what is the title?", chart);
        int[] sampled = [models.Id("▁the"), models.Id("▁title"), models.Id("▁is")]; // not what tokenizing the text would give
        Prompt first = builder.Build([question]);
        Prompt second = builder.Build([question, ChatTurn.Assistant("anything", sampled), ChatTurn.User("and the total?")]);

        var firstItems = first.Items().ToList();
        var secondItems = second.Items().ToList();
        Assert.All(firstItems.Zip(secondItems), pair => Assert.True(pair.First.SameAs(pair.Second)));
        Assert.Equal(sampled, secondItems.Skip(firstItems.Count).Take(3).Select(i => i.Token));
    }

    [Fact]
    public void Training_and_serving_build_the_same_prompt_from_their_own_copies_of_the_model()
    {
        // The trainer and the server each load the GGUF and make a builder of their own; a prompt must not depend on
        // which copy tokenized it, or a projector would be trained on positions it is never served at.
        ChatTurn[] turns = [ChatTurn.System("be brief"), ChatTurn.User("<image> what is the value of B?", Image(2, 0.5f)), ChatTurn.Assistant("B is 7"),
            ChatTurn.User("and the total?")];
        using LanguageModel copy = LanguageModel.Load(models.RandomLlama.Path);
        Prompt training = TinyModels.Builder(models.RandomLlama).Build(turns);
        Prompt serving = new PromptBuilder(ChatTemplate.For(copy), copy).Build(turns);
        Assert.Equal(training.Items().Select(i => (i.Token, i.Image?.Id, i.Row)), serving.Items().Select(i => (i.Token, i.Image?.Id, i.Row)));
        Assert.Equal(2, serving.ImageTokens);
        // system, user, assistant, user and the generation prompt each open a turn
        Assert.Equal(5, serving.Segments.OfType<TokenSegment>().Sum(s => s.Tokens.Count(t => t == models.Vocabulary.ImStart)));
    }

    [Fact]
    public void An_unknown_template_name_lists_the_available_ones()
    {
        var error = Assert.Throws<FileNotFoundException>(() => ChatTemplate.For(models.RandomLlama, "nonexistent"));
        Assert.Contains("chatml", error.Message);
        Assert.Contains("llama3", error.Message);
    }
}
