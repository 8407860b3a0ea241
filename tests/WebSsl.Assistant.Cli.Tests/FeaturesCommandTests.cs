using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using WebSsl.Vision;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Models;
using static TorchSharp.torch;

namespace WebSsl.Assistant.Cli.Tests;

public sealed class FeaturesCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _encoder;
    private readonly string _chart;

    public FeaturesCommandTests()
    {
        _encoder = _temp.File("encoder");
        _chart = _temp.File("chart.png");
        using var image = new Image<Rgb24>(90, 60);
        for (int y = 0; y < 60; y++)
        {
            for (int x = 0; x < 90; x++)
            {
                image[x, y] = new Rgb24((byte)(x * 2), (byte)(y * 4), (byte)(x < 45 ? 200 : 30));
            }
        }
        image.SaveAsPng(_chart);
    }

    private async Task MakeEncoder() =>
        Assert.Equal(0, (await CliRun.Webssl("fixtures", "encoder", "--shape", "tiny", "--out", _encoder)).ExitCode);

    [Fact]
    public async Task Features_of_an_image_are_written_as_safetensors_with_what_the_model_saw()
    {
        await MakeEncoder();
        string output = _temp.File("features.safetensors");
        CliRun run = await CliRun.Webssl("features", "--encoder", _encoder, "--image", _chart, "--layer", "1", "--out", output);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("hidden_state_layer [10, 32] (layer 1 of 2)", run.Output);

        using SafetensorsFile file = SafetensorsFile.Open(output);
        Assert.Equal([3L, 42, 42], file.Tensors["pixel_values"].Shape);
        Assert.Equal([10L, 32], file.Tensors["last_hidden_state"].Shape);
        Assert.Equal("1", file.Metadata["layer"]);

        // The file holds exactly what the encoder computes from the pixel values it also holds.
        using VisionEncoder encoder = VisionEncoder.Load(_encoder);
        using Tensor pixels = file.Read("pixel_values");
        using EncoderOutput expected = encoder.Forward(pixels, new EncoderRequest { HiddenStates = [1] });
        using Tensor last = file.Read("last_hidden_state"), layer = file.Read("hidden_state_layer");
        Assert.True(expected.LastHiddenState![0].allclose(last, rtol: 0, atol: 0));
        Assert.True(expected.HiddenStates[1][0].allclose(layer, rtol: 0, atol: 0));
    }

    [Fact]
    public async Task Pixel_values_from_another_tool_are_used_exactly_as_given()
    {
        await MakeEncoder();
        string input = _temp.File("pixels.safetensors"), output = _temp.File("out.safetensors");
        using Tensor pixels = randn([1, 3, 56, 70], generator: new Generator(3));
        SafetensorsWriter.Write(input, [new("pixel_values", pixels)]);

        CliRun run = await CliRun.Webssl("features", "--encoder", _encoder, "--pixel-values", input, "--out", output);
        Assert.Equal(0, run.ExitCode);
        using SafetensorsFile file = SafetensorsFile.Open(output);
        using Tensor written = file.Read("pixel_values");
        Assert.True(written.allclose(pixels[0], rtol: 0, atol: 0));
        Assert.Equal([21L, 32], file.Tensors["last_hidden_state"].Shape); // 4 x 5 patches + CLS, positions interpolated
    }

    [Fact]
    public async Task Resolution_and_pad_mode_change_what_the_model_sees()
    {
        await MakeEncoder();
        string output = _temp.File("padded.safetensors");
        CliRun run = await CliRun.Webssl("features", "--encoder", _encoder, "--image", _chart, "--resolution", "56", "--preprocess", "pad", "--out", output);
        Assert.Equal(0, run.ExitCode);
        using SafetensorsFile file = SafetensorsFile.Open(output);
        Assert.Equal([3L, 56, 56], file.Tensors["pixel_values"].Shape);
        Assert.Equal([17L, 32], file.Tensors["last_hidden_state"].Shape);
    }

    [Fact]
    public async Task A_broken_checkpoint_is_reported_with_the_file_and_exit_code_2()
    {
        await MakeEncoder();
        string weights = Path.Combine(_encoder, "model.safetensors");
        byte[] bytes = await File.ReadAllBytesAsync(weights);
        await File.WriteAllBytesAsync(weights, bytes[..(bytes.Length - 64)]);
        CliRun run = await CliRun.Webssl("features", "--encoder", _encoder, "--image", _chart, "--out", _temp.File("x.safetensors"));
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"error: {weights}", run.Error);
        Assert.Contains("truncated", run.Error);
        Assert.False(File.Exists(_temp.File("x.safetensors")));
    }

    [Fact]
    public async Task A_corrupt_image_is_reported_and_nothing_is_written()
    {
        await MakeEncoder();
        string broken = _temp.File("broken.png");
        byte[] png = await File.ReadAllBytesAsync(_chart);
        await File.WriteAllBytesAsync(broken, png[..(png.Length / 2)]);
        CliRun run = await CliRun.Webssl("features", "--encoder", _encoder, "--image", broken, "--out", _temp.File("y.safetensors"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("broken.png: truncated", run.Error);
        Assert.False(File.Exists(_temp.File("y.safetensors")));
    }

    [Theory]
    [InlineData("--layer", "7", "layer 7 does not exist")]
    [InlineData("--resolution", "50", "multiple of the patch size 14")]
    [InlineData("--device", "tpu", "expected cpu, cuda or cuda:N")]
    [InlineData("--enhance", "sharpen", "enhancement 'sharpen' is not known")]
    public async Task Bad_options_get_a_message_naming_the_rule(string option, string value, string expected)
    {
        await MakeEncoder();
        CliRun run = await CliRun.Webssl("features", "--encoder", _encoder, "--image", _chart, option, value, "--out", _temp.File("z.safetensors"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Error);
    }

    [Fact]
    public async Task Image_and_pixel_values_together_are_refused()
    {
        CliRun run = await CliRun.Webssl("features", "--encoder", _temp.Path, "--image", _chart, "--pixel-values", _chart, "--out", _temp.File("o"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("exactly one of --image or --pixel-values", run.Error);
    }

    public void Dispose() => _temp.Dispose();
}
