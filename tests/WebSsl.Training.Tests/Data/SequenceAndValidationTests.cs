using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Language;
using WebSsl.Language.Prompting;
using WebSsl.Training.Data;

namespace WebSsl.Training.Tests.Data;

public sealed class SequenceAndValidationTests(TrainingWorld world) : IClassFixture<TrainingWorld>
{
    private static VqaRecord Record(string id, params (ChatRole, string)[] turns) => new(id, 1, [new ImageSource("/x.png", null, "x.png")], turns);

    [Fact]
    public void Only_answer_tokens_and_the_end_of_turn_after_them_are_targets()
    {
        using LanguageModel llm = world.LoadLlm();
        var prompts = new PromptBuilder(ChatTemplate.For(llm), llm);
        var builder = new SequenceBuilder(llm, prompts, imageTokens: 9, maxLength: 512);
        VqaRecord record = Record("r", (ChatRole.User, "<image>\nwhat is the total?"), (ChatRole.Assistant, "the total"), (ChatRole.User, "and the year?"), (ChatRole.Assistant, "year"));
        TrainingSequence sequence = builder.Build(record);

        int[] tokens = sequence.Tokens();
        int[] firstAnswer = llm.Tokenize("the total", addBos: false), secondAnswer = llm.Tokenize("year", addBos: false);
        int imEnd = llm.Tokenize("<|im_end|>", addBos: false).Single();
        Assert.Equal([.. firstAnswer, imEnd, .. secondAnswer, imEnd], sequence.TargetTokens);
        Assert.All(sequence.TargetPositions.Zip(sequence.TargetTokens), t => Assert.Equal(t.Second, tokens[t.First]));
        Assert.Equal(9, sequence.Parts.OfType<ImagePart>().Single().Rows);
        builder.CheckServingAgreement(record, sequence);
    }

    [Fact]
    public void A_template_whose_generation_prompt_differs_from_its_assistant_prefix_is_refused()
    {
        using LanguageModel llm = world.LoadLlm();
        string path = world.File("odd-template.json");
        File.WriteAllText(path, """{"name": "odd", "messages": {"system": "{content}\n", "user": "<|im_start|>user\n{content}<|im_end|>\n", "assistant": "<|im_start|>assistant\n{content}<|im_end|>\n"}, "generation_prompt": "<|im_start|>assistant:\n"}""");
        var builder = new SequenceBuilder(llm, new PromptBuilder(ChatTemplate.For(llm, path), llm), 9, 512);
        VqaRecord record = Record("r", (ChatRole.User, "<image>\nq"), (ChatRole.Assistant, "bar"));
        var error = Assert.Throws<SequenceException>(() => builder.CheckServingAgreement(record, builder.Build(record)));
        Assert.Contains("differs from the training sequence", error.Message);
    }

    [Fact]
    public void Every_kind_of_bad_record_is_reported_with_its_line_and_the_good_ones_kept()
    {
        using LanguageModel llm = world.LoadLlm();
        string images = world.Sub("validation-images");
        using (var image = new Image<Rgb24>(20, 20, new Rgb24(9, 9, 9)))
        {
            image.SaveAsPng(Path.Combine(images, "ok.png"));
        }
        byte[] png = File.ReadAllBytes(Path.Combine(images, "ok.png"));
        File.WriteAllBytes(Path.Combine(images, "cut.png"), png[..(png.Length / 2)]);
        string Line(string id, string image, string question, string answer) => new JsonObject
        {
            ["id"] = id,
            ["image"] = image,
            ["conversations"] = new JsonArray(new JsonObject { ["from"] = "human", ["value"] = question }, new JsonObject { ["from"] = "gpt", ["value"] = answer }),
        }.ToJsonString();
        string data = world.File("mixed.jsonl");
        File.WriteAllLines(data, [
            Line("good", "ok.png", "<image>\nwhat?", "bar"),
            Line("missing", "nope.png", "<image>\nwhat?", "bar"),
            Line("corrupt", "cut.png", "<image>\nwhat?", "bar"),
            Line("markers", "ok.png", "<image> and <image>", "bar"),
            Line("empty", "ok.png", "<image>\nwhat?", "  "),
            Line("long", "ok.png", "<image>\n" + string.Join(" ", Enumerable.Repeat("what is the value of the bar", 40)), "bar"),
        ]);
        var builder = new SequenceBuilder(llm, new PromptBuilder(ChatTemplate.For(llm), llm), imageTokens: 9, maxLength: 128);
        ValidationReport report = DataValidator.Validate(data, images, builder);

        Assert.Equal(6, report.TotalRecords);
        Assert.Equal("good", Assert.Single(report.Valid).Id);
        string Problem(int line) => report.Problems.Single(p => p.Line == line).Problem;
        Assert.Contains("not found", Problem(2));
        Assert.Contains("truncated", Problem(3));
        Assert.Contains("2 <image> markers but 1 images", Problem(4));
        Assert.Contains("empty", Problem(5));
        Assert.Contains("exceed the training context of 128", Problem(6));
    }
}
