using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Images;
using static TorchSharp.torch;

namespace WebSsl.Vision.Tests.Images;

public sealed class PreprocessorTests
{
    private static readonly float[] Mean = PreprocessorConfig.ImageNetMean, Std = PreprocessorConfig.ImageNetStd;

    /// <summary>What transformers computes for an 8-bit level: float32(level * (1/255 in float64)), then (x - mean) / std in float32.</summary>
    private static float Normalized(int level, int channel) => ((float)(level * (1.0 / 255.0)) - Mean[channel]) / Std[channel];

    private static PreprocessorConfig CropConfig(int shortest, int crop, ResampleFilter resample = ResampleFilter.Bicubic) => new()
    {
        ShortestEdge = shortest,
        DoCenterCrop = true,
        CropHeight = crop,
        CropWidth = crop,
        Resample = resample,
    };

    [Theory]
    [InlineData(300, 200, 224, 336, 224)]
    [InlineData(333, 500, 256, 256, 384)]  // 256 * 500 / 333 = 384.38 -> truncated, as transformers does
    [InlineData(224, 224, 256, 256, 256)]
    public void The_shortest_edge_resize_size_follows_transformers(int height, int width, int edge, int expectedHeight, int expectedWidth)
    {
        Assert.Equal((expectedHeight, expectedWidth), ImagePreprocessor.ShortestEdgeSize(height, width, edge));
    }

    [Fact]
    public void Crop_mode_center_crops_and_normalizes_each_pixel_exactly()
    {
        // 4 wide, 8 tall: the shortest edge already has the target length, so only the crop acts (rows 2..5).
        using Image<Rgb24> image = TestImages.Make(4, 8, (x, y) => new Rgb24((byte)(y * 30), (byte)(x * 60), 200));
        var preprocessor = new ImagePreprocessor(CropConfig(4, 4), patchSize: 2);
        using Tensor pixels = preprocessor.ToPixelValues(image);
        Assert.Equal([3L, 4, 4], pixels.shape);
        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                Assert.Equal(Normalized((y + 2) * 30, 0), pixels[0, y, x].item<float>());
                Assert.Equal(Normalized(x * 60, 1), pixels[1, y, x].item<float>());
                Assert.Equal(Normalized(200, 2), pixels[2, y, x].item<float>());
            }
        }
    }

    [Fact]
    public void Pad_mode_letterboxes_with_the_mean_color_and_keeps_every_edge()
    {
        // A wide 4x2 red chart: crop mode would cut its sides; pad mode keeps all of it between two mean-colored bands.
        using Image<Rgb24> image = TestImages.Make(4, 2, (_, _) => new Rgb24(255, 0, 0));
        var preprocessor = new ImagePreprocessor(CropConfig(4, 4), patchSize: 2);
        using Tensor pixels = preprocessor.ToPixelValues(image, new PreprocessOptions { Mode = PreprocessMode.Pad });
        int[] meanColor = [123, 116, 103]; // int(mean * 255), as LLaVA's expand2square
        for (int x = 0; x < 4; x++)
        {
            for (int c = 0; c < 3; c++)
            {
                Assert.Equal(Normalized(meanColor[c], c), pixels[c, 0, x].item<float>());
                Assert.Equal(Normalized(meanColor[c], c), pixels[c, 3, x].item<float>());
            }
            Assert.Equal(Normalized(255, 0), pixels[0, 1, x].item<float>());
            Assert.Equal(Normalized(0, 1), pixels[1, 2, x].item<float>());
        }
    }

    [Fact]
    public void Stretch_mode_resizes_to_the_target_ignoring_aspect()
    {
        // Nearest-neighbour 2x upscale of a 2x1 image to 4x4 replicates each pixel into a 2-wide, 4-tall block.
        using Image<Rgb24> image = TestImages.Make(2, 1, (x, _) => x == 0 ? new Rgb24(0, 0, 0) : new Rgb24(255, 255, 255));
        var preprocessor = new ImagePreprocessor(CropConfig(4, 4, ResampleFilter.Nearest), patchSize: 2);
        using Tensor pixels = preprocessor.ToPixelValues(image, new PreprocessOptions { Mode = PreprocessMode.Stretch });
        for (int y = 0; y < 4; y++)
        {
            Assert.Equal(Normalized(0, 0), pixels[0, y, 1].item<float>());
            Assert.Equal(Normalized(255, 0), pixels[0, y, 2].item<float>());
        }
    }

    [Fact]
    public void A_resolution_override_keeps_the_checkpoints_resize_to_crop_ratio()
    {
        // DINOv2's 256 -> 224 becomes 512 -> 448. A 512x1024 image needs no resize for a 512 shortest edge.
        using Image<Rgb24> image = TestImages.Make(512, 1024, (x, y) => new Rgb24((byte)(x % 256), (byte)(y % 256), 7));
        var preprocessor = new ImagePreprocessor(PreprocessorConfig.DefaultFor(224), patchSize: 14);
        var options = new PreprocessOptions { Resolution = 448 };
        Assert.Equal((448, 448), preprocessor.OutputSize(options));
        using Tensor pixels = preprocessor.ToPixelValues(image, options);
        Assert.Equal([3L, 448, 448], pixels.shape);
        // top = (1024 - 448) / 2 = 288, left = (512 - 448) / 2 = 32
        Assert.Equal(Normalized(32, 0), pixels[0, 0, 0].item<float>());
        Assert.Equal(Normalized(288 % 256, 1), pixels[1, 0, 0].item<float>());
    }

    [Fact]
    public void A_resolution_that_is_not_a_multiple_of_the_patch_size_is_refused()
    {
        var preprocessor = new ImagePreprocessor(PreprocessorConfig.DefaultFor(224), patchSize: 14);
        var error = Assert.Throws<BadInputException>(() => preprocessor.OutputSize(new PreprocessOptions { Resolution = 300 }));
        Assert.Contains("multiple of the patch size 14", error.Message);
    }

    [Fact]
    public void Bicubic_downscaling_of_a_flat_image_keeps_its_color()
    {
        using Image<Rgb24> image = TestImages.Make(640, 480, (_, _) => new Rgb24(40, 80, 120));
        var preprocessor = new ImagePreprocessor(PreprocessorConfig.DefaultFor(224), patchSize: 14);
        using Tensor pixels = preprocessor.ToPixelValues(image);
        Assert.Equal([3L, 224, 224], pixels.shape);
        Assert.Equal(Normalized(80, 1), pixels[1].mean().item<float>(), 5);
    }

    [Fact]
    public void Defaults_without_a_preprocessor_config_follow_dinov2()
    {
        Assert.Equal((256, 224), (PreprocessorConfig.DefaultFor(224).ShortestEdge!.Value, PreprocessorConfig.DefaultFor(224).CropHeight));
        Assert.Equal((518, 518), (PreprocessorConfig.DefaultFor(518).ShortestEdge!.Value, PreprocessorConfig.DefaultFor(518).CropHeight));
    }

    [Fact]
    public void A_bit_image_processor_config_is_read_as_transformers_writes_it()
    {
        const string json = """
            {"crop_size":{"height":224,"width":224},"do_center_crop":true,"do_convert_rgb":true,"do_normalize":true,
             "do_rescale":true,"do_resize":true,"image_mean":[0.485,0.456,0.406],"image_processor_type":"BitImageProcessor",
             "image_std":[0.229,0.224,0.225],"resample":3,"rescale_factor":0.00392156862745098,"size":{"shortest_edge":256}}
            """;
        PreprocessorConfig config = PreprocessorConfig.Parse(json, "preprocessor_config.json");
        Assert.Equal(256, config.ShortestEdge);
        Assert.Equal((224, 224), config.OutputSize);
        Assert.Equal(ResampleFilter.Bicubic, config.Resample);
        Assert.Equal(0.229f, config.ImageStd[0]);
    }

    [Fact]
    public void A_vit_image_processor_config_resizes_straight_to_its_size()
    {
        PreprocessorConfig config = PreprocessorConfig.Parse(
            """{"do_resize":true,"size":{"height":224,"width":224},"resample":2,"image_mean":[0.5,0.5,0.5],"image_std":[0.5,0.5,0.5]}""", "p.json");
        Assert.Equal((224, 224), config.OutputSize);
        Assert.False(config.DoCenterCrop);
        Assert.Equal(ResampleFilter.Bilinear, config.Resample);
    }

    [Theory]
    [InlineData("""{"size":{"shortest_edge":256},"resample":5}""", "resample")]
    [InlineData("""{"size":{"longest_edge":256}}""", "size")]
    [InlineData("""{"size":{"shortest_edge":256},"do_center_crop":true}""", "crop_size")]
    [InlineData("""{"size":{"shortest_edge":256},"image_mean":[0.5,0.5]}""", "image_mean")]
    public void Unsupported_preprocessor_settings_are_refused_by_name(string json, string key)
    {
        var error = Assert.Throws<CheckpointException>(() => PreprocessorConfig.Parse(json, "preprocessor_config.json"));
        Assert.Equal(key, error.Key);
    }

    [Fact]
    public void The_encoder_honours_the_checkpoints_preprocessor_config()
    {
        using var temp = new TempDirectory();
        PreprocessorConfig custom = CropConfig(56, 42) with { ImageMean = [0.5f, 0.5f, 0.5f], ImageStd = [0.5f, 0.5f, 0.5f] };
        CheckpointGenerator.Write(temp.Path, CheckpointGenerator.Shapes["tiny"], new GeneratorOptions { Preprocessor = custom });
        using VisionEncoder encoder = VisionEncoder.Load(temp.Path);
        Assert.Equal(56, encoder.Preprocessor.Config.ShortestEdge);
        Assert.Equal([0.5f, 0.5f, 0.5f], encoder.Preprocessor.Config.ImageMean);
    }
}
