using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Vision.Images;

namespace WebSsl.Vision.Tests.Images;

public sealed class ImageLoaderTests
{
    public static TheoryData<string> Formats => ["png", "jpeg", "gif", "bmp", "webp", "tiff"];

    private static IImageEncoder EncoderFor(string format) => format switch
    {
        "png" => new PngEncoder(),
        "jpeg" => new JpegEncoder { Quality = 95 },
        "gif" => new GifEncoder(),
        "bmp" => new BmpEncoder(),
        "webp" => new WebpEncoder(),
        "tiff" => new TiffEncoder(),
        _ => throw new ArgumentException(format),
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Every_supported_format_decodes_to_8_bit_RGB_of_its_size(string format)
    {
        using Image<Rgb24> source = TestImages.Gradient(40, 24);
        byte[] bytes = TestImages.Encode(source, EncoderFor(format));
        using Image<Rgb24> image = ImageLoader.Load(bytes, $"chart.{format}");
        Assert.Equal((40, 24), (image.Width, image.Height));
        Assert.Equal(format.ToUpperInvariant(), ImageLoader.Inspect(bytes, "x").Format.ToUpperInvariant());
    }

    [Fact]
    public void Exif_orientation_is_applied_so_a_sideways_phone_photo_comes_out_upright()
    {
        // Left half red, right half blue; orientation 6 means "rotate 90 degrees clockwise to display".
        using Image<Rgb24> source = TestImages.Make(32, 16, (x, _) => x < 16 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255));
        source.Metadata.ExifProfile = new ExifProfile();
        source.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        byte[] jpeg = TestImages.Encode(source, new JpegEncoder { Quality = 100 });

        using Image<Rgb24> image = ImageLoader.Load(jpeg, "photo.jpg");
        Assert.Equal((16, 32), (image.Width, image.Height));
        Assert.True(image[8, 4].R > 200 && image[8, 4].B < 60, $"top should be red, was {image[8, 4]}");
        Assert.True(image[8, 28].B > 200 && image[8, 28].R < 60, $"bottom should be blue, was {image[8, 28]}");
    }

    [Fact]
    public void Transparency_is_composited_on_white()
    {
        using var source = new Image<Rgba32>(3, 1);
        source[0, 0] = new Rgba32(255, 0, 0, 128);
        source[1, 0] = new Rgba32(10, 20, 30, 0);
        source[2, 0] = new Rgba32(10, 20, 30, 255);
        using Image<Rgb24> image = ImageLoader.Load(TestImages.Encode(source, new PngEncoder()), "logo.png");
        // (c*a + 255*(255-a)) / 255, rounded: red at half alpha -> (255, 127, 127)
        Assert.Equal(new Rgb24(255, 127, 127), image[0, 0]);
        Assert.Equal(new Rgb24(255, 255, 255), image[1, 0]);
        Assert.Equal(new Rgb24(10, 20, 30), image[2, 0]);
    }

    [Fact]
    public void Grayscale_and_16_bit_images_become_8_bit_RGB()
    {
        using var gray = new Image<L8>(2, 2, new L8(77));
        using Image<Rgb24> fromGray = ImageLoader.Load(TestImages.Encode(gray, new PngEncoder()), "scan.png");
        Assert.Equal(new Rgb24(77, 77, 77), fromGray[1, 1]);

        using var deep = new Image<Rgb48>(2, 2, new Rgb48(65535, 32896, 0));
        byte[] png16 = TestImages.Encode(deep, new PngEncoder { BitDepth = PngBitDepth.Bit16 });
        using Image<Rgb24> fromDeep = ImageLoader.Load(png16, "microscope.png");
        Assert.Equal(new Rgb24(255, 128, 0), fromDeep[0, 0]);
    }

    [Fact]
    public void An_animated_gif_gives_its_first_frame()
    {
        using var animation = new Image<Rgba32>(4, 4, new Rgba32(255, 0, 0, 255));
        using var second = new Image<Rgba32>(4, 4, new Rgba32(0, 0, 255, 255));
        animation.Frames.AddFrame(second.Frames.RootFrame);
        using Image<Rgb24> image = ImageLoader.Load(TestImages.Encode(animation, new GifEncoder()), "anim.gif");
        Assert.True(image[2, 2].R > 200 && image[2, 2].B < 50);
    }

    [Fact]
    public void A_decompression_bomb_is_refused_from_its_header_before_decoding()
    {
        byte[] bomb = TestImages.PngClaiming(16_000, 16_000);
        Assert.True(bomb.Length < 100);
        var error = Assert.Throws<ImageRejectedException>(() => ImageLoader.Load(bomb, "innocent.png"));
        Assert.Equal(ImageRejection.TooManyPixels, error.Reason);
        Assert.Contains("16000x16000", error.Message);
        Assert.Contains("nothing was decoded", error.Message);
    }

    [Fact]
    public void Limits_are_configurable_per_call()
    {
        using Image<Rgb24> source = TestImages.Gradient(100, 100);
        byte[] png = TestImages.Encode(source, new PngEncoder());
        Assert.Equal(ImageRejection.TooManyPixels,
            Assert.Throws<ImageRejectedException>(() => ImageLoader.Load(png, "a.png", new ImageLimits { MaxPixels = 9_999 })).Reason);
        Assert.Equal(ImageRejection.TooManyPixels,
            Assert.Throws<ImageRejectedException>(() => ImageLoader.Load(png, "a.png", new ImageLimits { MaxSide = 99 })).Reason);
        Assert.Equal(ImageRejection.TooManyBytes,
            Assert.Throws<ImageRejectedException>(() => ImageLoader.Load(png, "a.png", new ImageLimits { MaxBytes = png.Length - 1 })).Reason);
    }

    [Fact]
    public void A_decode_that_would_exceed_the_memory_cap_is_refused_not_attempted()
    {
        byte[] claimsLarge = TestImages.PngClaiming(6_000, 6_000); // 36 MP: within the pixel limit, ~144 MB decoded
        var error = Assert.Throws<ImageRejectedException>(() => ImageLoader.Load(claimsLarge, "big.png", new ImageLimits { MaxDecodeMegabytes = 16 }));
        Assert.Equal(ImageRejection.TooManyPixels, error.Reason);
        Assert.Contains("decode limit of 16 MB", error.Message);
    }

    [Theory]
    [InlineData("png")]
    [InlineData("jpeg")]
    [InlineData("gif")]
    [InlineData("bmp")]
    [InlineData("webp")]
    public void A_truncated_file_is_refused_instead_of_being_filled_with_gray(string format)
    {
        using Image<Rgb24> source = TestImages.Gradient(64, 64);
        byte[] whole = TestImages.Encode(source, EncoderFor(format));
        byte[] cut = whole[..(int)(whole.Length * 0.6)];
        var error = Assert.Throws<ImageRejectedException>(() => ImageLoader.Load(cut, $"upload.{format}"));
        Assert.Equal(ImageRejection.Truncated, error.Reason);
        Assert.StartsWith($"upload.{format}: truncated", error.Message);
    }

    [Fact]
    public void A_truncated_tiff_is_refused_as_corrupt()
    {
        using Image<Rgb24> source = TestImages.Gradient(64, 64);
        byte[] whole = TestImages.Encode(source, new TiffEncoder());
        var error = Assert.Throws<ImageRejectedException>(() => ImageLoader.Load(whole[..(whole.Length / 2)], "scan.tiff"));
        Assert.Contains(error.Reason, new[] { ImageRejection.Corrupt, ImageRejection.Truncated });
    }

    [Fact]
    public void Empty_files_and_files_that_are_not_images_are_refused_by_content()
    {
        Assert.Equal(ImageRejection.Empty, Assert.Throws<ImageRejectedException>(() => ImageLoader.Load([], "empty.png")).Reason);
        byte[] text = "%PDF-1.7 this is a PDF, not an image"u8.ToArray();
        var error = Assert.Throws<ImageRejectedException>(() => ImageLoader.Load(text, "report.png"));
        Assert.Equal(ImageRejection.UnsupportedFormat, error.Reason);
        Assert.Contains("PNG, JPEG, WebP, GIF, BMP, TIFF", error.Message);
    }

    [Fact]
    public void Garbage_after_a_valid_signature_is_corrupt()
    {
        byte[] fake = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        var error = Assert.Throws<ImageRejectedException>(() => ImageLoader.Load(fake, "fake.png"));
        Assert.Contains(error.Reason, new[] { ImageRejection.Corrupt, ImageRejection.Truncated });
    }

    [Fact]
    public void A_missing_file_is_reported_with_its_path()
    {
        var error = Assert.Throws<FileNotFoundException>(() => ImageLoader.LoadFile("/nowhere/chart.png"));
        Assert.Contains("/nowhere/chart.png", error.Message);
    }
}
