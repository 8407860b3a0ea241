using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using SkiaSharp;
using WebSsl.Training.Synthesis;
using WebSsl.Vision.Documents;

namespace WebSsl.Training.Tests.Synthesis;

/// <summary>Full document pages (A4 at 150 dpi, and the demo's 224 x 336 pages): what they ask is what they show, and their PDFs render back to them.</summary>
public sealed class PageProfileTests
{
    private static IEnumerable<SyntheticImage> Pages(SynthProfile profile, int count = 8) =>
        Enumerable.Range(0, count).Select(i => SyntheticDataset.Render(new SynthOptions { Kind = SynthKind.Page, Profile = profile, Seed = 21 }, i));

    [Theory]
    [InlineData(SynthProfile.Standard, 1240, 1754)]
    [InlineData(SynthProfile.Demo, 224, 336)]
    public void Every_answer_is_what_the_page_shows_under_its_key(SynthProfile profile, int width, int height)
    {
        foreach (SyntheticImage page in Pages(profile))
        {
            Assert.Equal((width, height), (page.Width, page.Height));
            using SKBitmap decoded = SKBitmap.Decode(page.Bytes);
            Assert.Equal((width, height), (decoded.Width, decoded.Height));
            var keys = page.Layout.Where(e => e.Role == "field-key" && e.Text != "Total").ToList();
            var values = page.Layout.Where(e => e.Role == "field").ToList();
            Assert.Equal(keys.Count, values.Count);
            var items = page.Layout.Where(e => e.Role == "cell" && e.Value is null).ToList();
            foreach (SynthQuestion q in page.Questions)
            {
                switch (q.Category)
                {
                    case SynthCategory.ExtractField:
                        int k = keys.FindIndex(e => q.Question == $"What is the {e.Text.ToLowerInvariant()}?");
                        Assert.Equal(values[k].Text, q.Answer);
                        Assert.True(values[k].Top > keys[k].Bottom - 1 && Math.Abs(values[k].Left - keys[k].Left) < 2, "a value sits under its key");
                        break;
                    case SynthCategory.Count:
                        Assert.Equal(items.Count.ToString(CultureInfo.InvariantCulture), q.Answer);
                        break;
                    case SynthCategory.ValueLookup when q.Question.StartsWith("What is the quantity of ", StringComparison.Ordinal):
                        LayoutElement item = items.Single(e => q.Question.EndsWith($" {(profile == SynthProfile.Demo ? e.Text : e.Text.ToLowerInvariant())}?", StringComparison.Ordinal));
                        LayoutElement quantity = page.Layout.First(e => e.Role == "cell" && e.Value is not null && e.Style!.Y == item.Style!.Y);
                        Assert.Equal(quantity.Text, q.Answer);
                        break;
                    case SynthCategory.SumTotal:
                        Assert.Equal(page.Layout.Single(e => e.Role == "total").Text, q.Answer);
                        break;
                    case SynthCategory.ReadTitle:
                        Assert.Equal(page.Layout.Single(e => e.Role == "title").Text, q.Answer);
                        break;
                    case SynthCategory.ReadLine:
                        Assert.Contains(page.Layout, e => e.Role == "line" && e.Text == q.Answer);
                        break;
                }
            }
        }
    }

    [Fact]
    public void Full_pages_are_dense_with_small_text_that_one_view_cannot_keep()
    {
        foreach (SyntheticImage page in Pages(SynthProfile.Standard, 4))
        {
            Assert.True(page.Layout.Count(e => e.Role == "field") >= 10, "a form of many fields");
            Assert.True(page.Layout.Count(e => e.Role == "line") >= 40, "two columns of body text");
            // Body text is 9 pt at 150 dpi; read as one 224-px view of a 1754-px page it would be under 2.5 px.
            LayoutElement line = page.Layout.First(e => e.Role == "line");
            Assert.InRange(line.Style!.Size, 15, 20);
            Assert.True(line.Style.Size * 224 / page.Height < 2.5);
        }
    }

    [Fact]
    public void Demo_pages_use_only_words_the_demo_assistant_was_trained_on()
    {
        // The demo LLM's vocabulary is made from the demo's own data: pages answered in those words can be taught to it.
        var demoWords = new HashSet<string>(StringComparer.Ordinal);
        using var temp = new TempDirectory();
        SynthSummary demo = SyntheticDataset.Write(new SynthOptions { Profile = SynthProfile.Demo, Count = 300, Seed = 1, Conversations = true, Captions = true }, temp.Path);
        using (JsonDocument data = JsonDocument.Parse(File.ReadAllBytes(demo.DataFile)))
        {
            foreach (JsonElement turn in data.RootElement.EnumerateArray().SelectMany(r => r.GetProperty("conversations").EnumerateArray()))
            {
                demoWords.UnionWith(Regex.Matches(turn.GetProperty("value").GetString()!, @"\w+").Select(m => m.Value));
            }
        }
        foreach (SyntheticImage page in Pages(SynthProfile.Demo, 30))
        {
            Assert.All(page.Questions.Where(q => q.Category != SynthCategory.SumTotal), q => Assert.Contains(q.Answer, demoWords));
            Assert.Equal(10, page.Questions.Count);
        }
        // Their text is as large as the demo documents' in a 112-px tile, and shrinks three times in one 112-px view.
        SyntheticImage first = Pages(SynthProfile.Demo, 1).Single();
        Assert.All(first.Layout.Where(e => e.Role == "field"), e => Assert.InRange(e.Style!.Size, 12, 14));
    }

    [Fact]
    public async Task Pages_bound_into_pdfs_render_back_at_the_listed_dpi_with_each_questions_page()
    {
        using var temp = new TempDirectory();
        SyntheticDataset.Write(new SynthOptions { Kind = SynthKind.Page, Profile = SynthProfile.Demo, Count = 5, Seed = 3, PdfPages = 2 }, temp.Path);

        using JsonDocument listing = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(temp.Path, "documents.json")));
        JsonElement[] documents = listing.RootElement.EnumerateArray().ToArray();
        Assert.Equal([2, 2, 1], documents.Select(d => d.GetProperty("pages").GetArrayLength()));
        foreach (JsonElement document in documents)
        {
            byte[] pdf = File.ReadAllBytes(Path.Combine(temp.Path, document.GetProperty("file").GetString()!));
            int dpi = document.GetProperty("dpi").GetInt32();
            Assert.Equal(72, dpi);
            IReadOnlyList<RenderedPage> pages = await PdfRenderer.RenderAsync(pdf, "document.pdf", options: new PdfRenderOptions { Dpi = dpi });
            Assert.Equal(document.GetProperty("pages").GetArrayLength(), pages.Count);
            Assert.All(pages, p => Assert.Equal((224, 336), (p.Width, p.Height)));
            int[] asked = document.GetProperty("questions").EnumerateArray().Select(q => q.GetProperty("page").GetInt32()).Distinct().ToArray();
            Assert.Equal(Enumerable.Range(1, pages.Count), asked);
        }
    }

    [Fact]
    public void Pdfs_are_made_of_pages_only()
    {
        using var temp = new TempDirectory();
        var error = Assert.Throws<BadInputException>(() => SyntheticDataset.Write(new SynthOptions { Kind = SynthKind.Bar, PdfPages = 2 }, temp.Path));
        Assert.Contains("--pdf-pages", error.Message);
    }
}
