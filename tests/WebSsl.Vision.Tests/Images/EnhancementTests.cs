using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Vision.Images;

namespace WebSsl.Vision.Tests.Images;

public sealed class EnhancementTests
{
    [Fact]
    public void Adaptive_equalization_spreads_the_histogram_of_a_faded_scan()
    {
        // A washed-out page: levels only between 110 and 150, with some structure.
        using Image<Rgb24> faded = TestImages.Make(128, 128, (x, y) =>
        {
            byte v = (byte)(110 + (x * 7 + y * 3) % 41);
            return new Rgb24(v, v, v);
        });
        using Image<Rgb24> equalized = ImageEnhancer.Apply(faded, ImageEnhancement.Equalize);
        (double beforeStd, int beforeRange) = Luminance(faded);
        (double afterStd, int afterRange) = Luminance(equalized);
        Assert.True(afterStd > 3 * beforeStd, $"std {beforeStd:F1} -> {afterStd:F1}");
        Assert.True(afterRange > 150, $"range {beforeRange} -> {afterRange}");
    }

    [Fact]
    public void Adaptive_binarization_separates_text_from_an_unevenly_lit_background()
    {
        // Background brightens from 60 to 230 left to right; "text" strokes are 45 levels darker than their surroundings,
        // so any single global threshold fails on one side of the page.
        static bool IsStroke(int x, int y) => y % 16 is >= 6 and < 9 && x % 10 < 6;
        using Image<Rgb24> page = TestImages.Make(200, 96, (x, y) =>
        {
            int background = 60 + x * 170 / 199;
            byte v = (byte)(IsStroke(x, y) ? background - 45 : background);
            return new Rgb24(v, v, v);
        });
        using Image<Rgb24> binary = ImageEnhancer.Apply(page, ImageEnhancement.Binarize);
        int strokes = 0, strokesBlack = 0, paper = 0, paperWhite = 0;
        var levels = new HashSet<byte>();
        for (int y = 0; y < 96; y++)
        {
            for (int x = 0; x < 200; x++)
            {
                byte v = binary[x, y].R;
                levels.Add(v);
                if (IsStroke(x, y))
                {
                    strokes++;
                    strokesBlack += v == 0 ? 1 : 0;
                }
                else
                {
                    paper++;
                    paperWhite += v == 255 ? 1 : 0;
                }
            }
        }
        Assert.Equal(new HashSet<byte> { 0, 255 }, levels);
        Assert.True(strokesBlack > 0.9 * strokes, $"{strokesBlack}/{strokes} text pixels black");
        Assert.True(paperWhite > 0.8 * paper, $"{paperWhite}/{paper} paper pixels white");
    }

    [Theory]
    [InlineData("none", ImageEnhancement.None)]
    [InlineData("equalize", ImageEnhancement.Equalize)]
    [InlineData("binarize", ImageEnhancement.Binarize)]
    [InlineData("equalize,binarize", ImageEnhancement.Equalize | ImageEnhancement.Binarize)]
    public void Enhancements_are_chosen_by_name(string text, ImageEnhancement expected) =>
        Assert.Equal(expected, ImageEnhancer.Parse(text));

    [Fact]
    public void An_unknown_enhancement_is_refused() =>
        Assert.Contains("sharpen", Assert.Throws<BadInputException>(() => ImageEnhancer.Parse("sharpen")).Message);

    private static (double Std, int Range) Luminance(Image<Rgb24> image)
    {
        var values = new List<double>();
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                Rgb24 p = image[x, y];
                values.Add(0.299 * p.R + 0.587 * p.G + 0.114 * p.B);
            }
        }
        double mean = values.Average();
        return (Math.Sqrt(values.Average(v => (v - mean) * (v - mean))), (int)(values.Max() - values.Min()));
    }
}
