using WebSsl.Language.Prompting;
using WebSsl.Training.Data;

namespace WebSsl.Training.Tests.Data;

public sealed class VqaDatasetTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string Write(string name, string content)
    {
        string path = _temp.File(name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void LLaVA_json_with_one_or_several_images_becomes_records()
    {
        string path = Write("llava.json", """
            [
              {"id": "a", "image": "charts/a.png", "conversations": [
                {"from": "human", "value": "<image>\nWhat is the total?"}, {"from": "gpt", "value": "42"},
                {"from": "human", "value": "And the title?"}, {"from": "gpt", "value": "Sales"}]},
              {"id": "b", "image": ["x.png", "y.png"], "conversations": [
                {"from": "system", "value": "Be brief."}, {"from": "human", "value": "<image> vs <image>"}, {"from": "gpt", "value": "same"}]}
            ]
            """);
        var (records, problems) = VqaDataset.Read(path, "/data/images");
        Assert.Empty(problems);
        Assert.Equal(2, records.Count);
        Assert.Equal("/data/images/charts/a.png", records[0].Images[0].Path);
        Assert.Equal(4, records[0].Turns.Count);
        Assert.Equal((ChatRole.Assistant, "Sales"), records[0].Turns[3]);
        Assert.Equal(2, records[1].ImageMarkers);
        Assert.Equal(ChatRole.System, records[1].Turns[0].Role);
    }

    [Fact]
    public void LLaVA_jsonl_reports_malformed_lines_by_number_and_reads_the_rest()
    {
        string path = Write("llava.jsonl", """
            {"id": "1", "image": "a.png", "conversations": [{"from": "human", "value": "<image>\nQ"}, {"from": "gpt", "value": "A"}]}
            {"id": "2", "image": "b.png", "conversations": [{"from": "robot", "value": "Q"}]}
            this is not json

            {"id": "4", "conversations": [{"from": "human", "value": "caption?"}, {"from": "gpt", "value": "text only"}]}
            """);
        var (records, problems) = VqaDataset.Read(path, _temp.Path);
        Assert.Equal(["1", "4"], records.Select(r => r.Id));
        Assert.Equal(5, records[1].Line);
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.Line == 2 && p.Problem.Contains("unknown speaker \"robot\""));
        Assert.Contains(problems, p => p.Line == 3 && p.Problem.Contains("not valid JSON"));
    }

    [Fact]
    public void Messages_jsonl_with_image_url_parts_image_lists_and_data_uris()
    {
        byte[] png = [0x89, 0x50, 0x4E, 0x47];
        string dataUri = "data:image/png;base64," + Convert.ToBase64String(png);
        string path = Write("messages.jsonl", $$$"""
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "Compare "}, {"type": "image_url", "image_url": {"url": "a.png"}}, {"type": "text", "text": " with this."}]}, {"role": "assistant", "content": "A is larger."}]}
            {"messages": [{"role": "user", "content": "Read the receipt."}, {"role": "assistant", "content": "Total 9.99"}], "images": ["r.png"]}
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "{{{dataUri}}}"}}, {"type": "text", "text": "What?"}]}, {"role": "assistant", "content": "x"}]}
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}, {"role": "assistant", "content": "x"}]}
            """);
        var (records, problems) = VqaDataset.Read(path, _temp.Path);
        Assert.Equal(3, records.Count);
        Assert.Equal("Compare <image>\n with this.", records[0].Turns[0].Text);
        Assert.Equal("<image>\nRead the receipt.", records[1].Turns[0].Text);
        Assert.Equal(Path.Combine(_temp.Path, "r.png"), records[1].Images[0].Path);
        Assert.Equal(png, records[2].Images[0].ReadBytes());
        Assert.Contains("remote URL", Assert.Single(problems).Problem);
    }

    public void Dispose() => _temp.Dispose();
}
