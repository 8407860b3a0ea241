using System.Globalization;
using System.Text.Json;
using SkiaSharp;
using WebSsl.Training.Data;
using WebSsl.Training.Synthesis;

namespace WebSsl.Training.Tests.Synthesis;

/// <summary>The demo profile (small images, large text) and the training forms: conversations per image and captions.</summary>
public sealed class DemoProfileTests
{
    private static IEnumerable<SyntheticImage> Demo(SynthKind kind, int count = 16) =>
        Enumerable.Range(0, count).Select(i => SyntheticDataset.Render(new SynthOptions { Profile = SynthProfile.Demo, Kind = kind, Seed = 11 }, i));

    [Fact]
    public void Demo_bars_stand_on_a_0_to_10_grid_and_the_answers_follow_the_pixels()
    {
        foreach (SyntheticImage image in Demo(SynthKind.Bar))
        {
            Assert.Equal((140, 140), (image.Width, image.Height));
            using SKBitmap pixels = SKBitmap.Decode(image.Bytes);
            var bars = image.Layout.Where(e => e.Role == "bar").ToList();
            Assert.InRange(bars.Count, 3, 6);
            Assert.Equal(bars.Select((_, i) => ((char)('A' + i)).ToString()), bars.Select(b => b.Text));
            // Height in pixels = value x (plot height / 10): the grid is fixed, so a value can be read off it.
            foreach (LayoutElement bar in bars)
            {
                int x = (int)((bar.Left + bar.Right) / 2), bottom = (int)bar.Bottom - 1, top = bottom;
                while (top > 0 && pixels.GetPixel(x, top - 1) == new SKColor(bar.Color!.Value))
                {
                    top--;
                }
                Assert.InRange(bottom + 1 - top, (double)bar.Value!.Value * 9.4 - 2, (double)bar.Value!.Value * 9.4 + 2);
            }
            foreach (SynthQuestion q in image.Questions)
            {
                switch (q.Category)
                {
                    case SynthCategory.MaxMin:
                        LayoutElement expected = q.Question.Contains("tallest") ? bars.MaxBy(b => b.Value)! : bars.MinBy(b => b.Value)!;
                        Assert.Single(bars, b => b.Value == expected.Value); // one answer only
                        Assert.Equal(expected.Text, q.Answer);
                        break;
                    case SynthCategory.ValueLookup:
                        LayoutElement named = bars.Single(b => q.Question.EndsWith($" of {b.Text}?", StringComparison.Ordinal));
                        Assert.Equal(named.Value!.Value.ToString(CultureInfo.InvariantCulture), q.Answer);
                        break;
                    case SynthCategory.Count:
                        Assert.Equal(bars.Count.ToString(CultureInfo.InvariantCulture), q.Answer);
                        break;
                    case SynthCategory.ReadTitle:
                        Assert.Equal(image.Layout.Single(e => e.Role == "title").Text, q.Answer);
                        break;
                }
            }
        }
    }

    [Fact]
    public void A_caption_transcribes_what_was_drawn()
    {
        SyntheticImage bar = Demo(SynthKind.Bar, 1).Single();
        var bars = bar.Layout.Where(e => e.Role == "bar").ToList();
        string expected = $"{bar.Layout.Single(e => e.Role == "title").Text}. " + string.Join(", ", bars.Select(b => $"{b.Text} {b.Value}")) + ".";
        Assert.Equal(expected, SynthCaption.Of(bar));

        SyntheticImage document = Demo(SynthKind.Document, 1).Single();
        int lines = document.Layout.Count(e => e.Role == "line");
        Assert.Equal($"{document.Layout.Single(e => e.Role == "title").Text}. {lines} lines. Total {document.Layout.Single(e => e.Role == "total").Text}.",
            SynthCaption.Of(document));
    }

    [Fact]
    public void Conversations_put_every_question_of_an_image_in_one_record_with_the_caption_last()
    {
        using var temp = new TempDirectory();
        var options = new SynthOptions { Profile = SynthProfile.Demo, Count = 9, Seed = 5, Conversations = true, Captions = true };
        SynthSummary summary = SyntheticDataset.Write(options, temp.Path);

        var (records, problems) = VqaDataset.Read(summary.DataFile, temp.Path);
        Assert.Empty(problems);
        Assert.Equal(9, records.Count);
        Assert.Equal(9, summary.Categories[SynthCaption.Category]);
        Assert.Equal(summary.Questions, records.Sum(r => r.Turns.Count(t => t.Role == Language.Prompting.ChatRole.Assistant)));
        foreach (VqaRecord record in records)
        {
            Assert.Equal(1, record.ImageMarkers);
            Assert.Equal(SynthCaption.Question, record.Turns[^2].Text);
            SyntheticImage image = SyntheticDataset.Render(options, int.Parse(record.Id[^6..], CultureInfo.InvariantCulture));
            Assert.Equal(SynthCaption.Of(image), record.Turns[^1].Text);
        }
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "manifest.json")));
        Assert.True(manifest.RootElement.GetProperty("conversations").GetBoolean());
        Assert.Equal("demo", manifest.RootElement.GetProperty("profile").GetString());
    }

    [Fact]
    public void The_demo_profile_refuses_kinds_it_does_not_draw()
    {
        using var temp = new TempDirectory();
        var error = Assert.Throws<BadInputException>(() => SyntheticDataset.Write(new SynthOptions { Profile = SynthProfile.Demo, Kind = SynthKind.Pie, Count = 2 }, temp.Path));
        Assert.Contains("not pie", error.Message);
    }
}
