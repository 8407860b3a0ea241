using System.Globalization;
using SkiaSharp;
using WebSsl.Training.Data;
using WebSsl.Training.Synthesis;

namespace WebSsl.Training.Tests.Synthesis;

/// <summary>The synthetic data says exactly what its images show, and the same seed gives the same bytes.</summary>
public sealed class SyntheticDatasetTests
{
    private static readonly SynthKind[] Kinds = [SynthKind.Bar, SynthKind.Line, SynthKind.Pie, SynthKind.Table, SynthKind.Document, SynthKind.Receipt];

    private static IEnumerable<SyntheticImage> Images(SynthKind kind, int count = 12, int seed = 7) =>
        Enumerable.Range(0, count).Select(i => SyntheticDataset.Render(new SynthOptions { Kind = kind, Seed = seed }, i));

    [Fact]
    public void The_same_seed_gives_the_same_bytes_and_another_seed_other_images()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        using var c = new TempDirectory();
        SyntheticDataset.Write(new SynthOptions { Kind = SynthKind.Mixed, Count = 18, Seed = 3 }, a.Path);
        SyntheticDataset.Write(new SynthOptions { Kind = SynthKind.Mixed, Count = 18, Seed = 3 }, b.Path);
        SyntheticDataset.Write(new SynthOptions { Kind = SynthKind.Mixed, Count = 18, Seed = 4 }, c.Path);

        string[] files = Directory.GetFiles(a.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a.Path, f)).Order().ToArray();
        Assert.Equal(21, files.Length);
        Assert.Equal(files, Directory.GetFiles(b.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(b.Path, f)).Order());
        Assert.All(files, f => Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, f)), File.ReadAllBytes(Path.Combine(b.Path, f))));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a.Path, "data.json")), File.ReadAllBytes(Path.Combine(c.Path, "data.json")));
    }

    [Theory]
    [MemberData(nameof(KindData))]
    public void Every_kind_asks_short_exact_questions_of_known_categories(SynthKind kind)
    {
        foreach (SyntheticImage image in Images(kind))
        {
            Assert.InRange(image.Questions.Count, 3, 4);
            Assert.Equal(image.Questions.Count, image.Questions.Select(q => q.Question).Distinct().Count());
            Assert.All(image.Questions, q =>
            {
                Assert.Contains(q.Category, SynthCategory.All);
                Assert.False(string.IsNullOrWhiteSpace(q.Answer));
                Assert.True(q.Answer.Split(' ').Length <= 10, q.Answer);
            });
            Assert.Equal(kind is SynthKind.Document or SynthKind.Receipt && image.Scan is not null ? "jpg" : "png", image.Format);
            using SKBitmap decoded = SKBitmap.Decode(image.Bytes);
            Assert.Equal((image.Width, image.Height), (decoded.Width, decoded.Height));
        }
    }

    public static TheoryData<SynthKind> KindData() => new(Kinds);

    [Fact]
    public void Bar_heights_in_the_pixels_are_proportional_to_the_values_asked_about()
    {
        foreach (SyntheticImage image in Images(SynthKind.Bar, 10))
        {
            using SKBitmap pixels = SKBitmap.Decode(image.Bytes);
            var bars = image.Layout.Where(e => e.Role == "bar").ToList();
            var measured = bars.Select(bar =>
            {
                int x = (int)((bar.Left + bar.Right) / 2), bottom = (int)bar.Bottom - 1;
                int top = bottom;
                while (top > 0 && Same(pixels.GetPixel(x, top - 1), bar.Color!.Value))
                {
                    top--;
                }
                return (Bar: bar, Height: bottom + 1 - top);
            }).ToList();
            // One scale for all bars: pixels per unit of value, within rounding.
            double scale = measured.Max(m => m.Height) / (double)bars.Max(b => b.Value!.Value);
            Assert.All(measured, m => Assert.InRange(m.Height, (double)m.Bar.Value!.Value * scale - 2, (double)m.Bar.Value!.Value * scale + 2));

            foreach (SynthQuestion q in image.Questions)
            {
                LayoutElement? named = bars.FirstOrDefault(b => q.Question.EndsWith($" for {b.Text}?", StringComparison.Ordinal));
                if (q.Category == SynthCategory.ValueLookup)
                {
                    Assert.Equal(q.Answer.TrimEnd('%'), named!.Value!.Value.ToString(CultureInfo.InvariantCulture));
                }
                if (q.Category == SynthCategory.MaxMin)
                {
                    int tallest = measured.MaxBy(m => m.Height).Bar == measured.MaxBy(m => m.Bar.Value!.Value).Bar ? 1 : 0;
                    Assert.Equal(1, tallest);
                    LayoutElement expected = q.Question.Contains("highest") ? bars.MaxBy(b => b.Value)! : bars.MinBy(b => b.Value)!;
                    Assert.Equal(expected.Text, q.Answer);
                }
                if (q.Category == SynthCategory.Count)
                {
                    Assert.Equal(bars.Count.ToString(CultureInfo.InvariantCulture), q.Answer);
                }
            }
        }
    }

    public static TheoryData<SynthKind> KindAndPageData() => new([.. Kinds, SynthKind.Page]);

    [Theory]
    [MemberData(nameof(KindAndPageData))]
    public void The_text_in_the_image_is_the_text_the_answers_quote(SynthKind kind)
    {
        foreach (SyntheticImage image in Images(kind, kind == SynthKind.Page ? 3 : 6).Where(i => i.Scan is null))
        {
            using SKBitmap pixels = SKBitmap.Decode(image.Bytes);
            var texts = image.Layout.Where(e => e.Style is { Align: not "vertical" } && e.Role is "title" or "value-label" or "category-label" or "cell"
                or "row-label" or "line" or "field" or "item" or "price" or "total" or "legend").ToList();
            Assert.NotEmpty(texts);
            foreach (LayoutElement text in texts)
            {
                // Draw the recorded string alone, the same way, and compare the region pixel for pixel.
                using var alone = new SynthCanvas(image.Width, image.Height, new SKColor(image.Background));
                TextStyle s = text.Style!;
                alone.Text(text.Role, text.Text, s.X, s.Y, s.Size, new SKColor(s.Color), s.Weight, Enum.Parse<SKTextAlign>(s.Align, ignoreCase: true));
                var box = SKRectI.Round(new SKRect(text.Left, text.Top, text.Right, text.Bottom));
                int differing = 0, inked = 0;
                for (int y = Math.Max(0, box.Top); y < Math.Min(image.Height, box.Bottom); y++)
                {
                    for (int x = Math.Max(0, box.Left); x < Math.Min(image.Width, box.Right); x++)
                    {
                        SKColor expected = alone.Bitmap.GetPixel(x, y);
                        inked += expected == new SKColor(image.Background) ? 0 : 1;
                        differing += Same(pixels.GetPixel(x, y), (uint)expected, tolerance: 2) ? 0 : 1;
                    }
                }
                Assert.True(inked > 0, $"{image.Id}: '{text.Text}' drew nothing");
                Assert.True(differing == 0, $"{image.Id}: {text.Role} '{text.Text}' differs from a fresh rendering in {differing} pixels");
            }
            foreach (SynthQuestion q in image.Questions.Where(q => q.Category is SynthCategory.ReadTitle or SynthCategory.ReadLine or SynthCategory.ExtractField))
            {
                Assert.Contains(image.Layout, e => e.Text == q.Answer || e.Text.EndsWith(": " + q.Answer, StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public void Scans_are_slightly_rotated_noisy_jpegs()
    {
        SyntheticImage[] scans = Images(SynthKind.Receipt, 20).Concat(Images(SynthKind.Document, 20)).Where(i => i.Scan is not null).ToArray();
        Assert.NotEmpty(scans);
        Assert.All(scans, s =>
        {
            Assert.InRange(Math.Abs(s.Scan!.RotationDegrees), 0, 2.5);
            Assert.InRange(s.Scan.JpegQuality, 55, 85);
            Assert.Equal([0xFF, 0xD8], s.Bytes[..2]);
        });
    }

    [Fact]
    public void The_llava_json_reads_back_with_a_category_per_question()
    {
        using var dir = new TempDirectory();
        SynthSummary summary = SyntheticDataset.Write(new SynthOptions { Kind = SynthKind.Mixed, Count = 30, Seed = 11 }, dir.Path);

        var (records, problems) = VqaDataset.Read(summary.DataFile, null);

        Assert.Empty(problems);
        Assert.Equal(summary.Questions, records.Count);
        Assert.All(records, r => Assert.True(File.Exists(r.Images.Single().Path)));
        Assert.Equal(summary.Questions, summary.Categories.Values.Sum());
        Assert.True(summary.Kinds.Count >= 5, string.Join(", ", summary.Kinds.Keys));
        Assert.True(summary.Categories.Count >= 8, string.Join(", ", summary.Categories.Keys));
        Assert.Equal(30, File.ReadLines(Path.Combine(dir.Path, "layout.jsonl")).Count());
    }

    [Fact]
    public void A_missing_font_package_is_a_clear_error()
    {
        var error = Assert.Throws<FileNotFoundException>(() => SynthFonts.Load("/nowhere/Avalonia.Fonts.Inter.dll"));
        Assert.Contains("Inter font package is missing", error.Message);
    }

    private static bool Same(SKColor pixel, uint rgba, int tolerance = 8)
    {
        var expected = new SKColor(rgba);
        return Math.Abs(pixel.Red - expected.Red) <= tolerance && Math.Abs(pixel.Green - expected.Green) <= tolerance && Math.Abs(pixel.Blue - expected.Blue) <= tolerance;
    }
}
