using System.CommandLine;
using System.Diagnostics;
using WebSsl.Vision;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Images;
using WebSsl.Vision.Models;
using static TorchSharp.torch;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl features</c>: what the encoder computes for one image, written as safetensors for inspection or comparison.</summary>
internal static class FeaturesCommand
{
    public static Command Create(CliContext context)
    {
        var encoderOption = new Option<DirectoryInfo>("--encoder") { Description = "HuggingFace checkpoint folder (config.json + safetensors).", Required = true };
        var imageOption = new Option<FileInfo?>("--image") { Description = "Image file (PNG, JPEG, WebP, GIF, BMP, TIFF)." };
        var pixelsOption = new Option<FileInfo?>("--pixel-values")
        {
            Description = "A safetensors file with a tensor 'pixel_values' [3,H,W] (e.g. saved from transformers); skips image preprocessing.",
        };
        var layerOption = new Option<int>("--layer")
        {
            Description = "hidden_states index written as hidden_state_layer: 0 = embeddings, i = block i, negative counts from the end.",
            DefaultValueFactory = _ => -1,
        };
        var outOption = new Option<FileInfo>("--out") { Description = "Output .safetensors file.", Required = true };
        Option<int?> resolutionOption = SharedOptions.Resolution();
        Option<string> preprocessOption = SharedOptions.Preprocess();
        Option<string> enhanceOption = SharedOptions.Enhance();
        Option<string> deviceOption = SharedOptions.Device();
        Option<string?> dtypeOption = SharedOptions.ComputeType();

        var command = new Command("features", "Run the encoder on one image and write pixel_values, last_hidden_state and one layer's hidden state.")
        {
            encoderOption, imageOption, pixelsOption, resolutionOption, preprocessOption, enhanceOption, layerOption, deviceOption, dtypeOption, outOption,
        };
        command.Validators.Add(result =>
        {
            bool Given(Option option) => result.GetResult(option) is { Implicit: false };
            bool image = Given(imageOption), pixels = Given(pixelsOption);
            if (image == pixels)
            {
                result.AddError("give exactly one of --image or --pixel-values.");
            }
            if (pixels && (Given(resolutionOption) || Given(preprocessOption) || Given(enhanceOption)))
            {
                result.AddError("--resolution, --preprocess and --enhance apply to --image; --pixel-values is used exactly as given.");
            }
        });
        command.SetAction((parse, cancellationToken) =>
        {
            var watch = Stopwatch.StartNew();
            using VisionEncoder encoder = VisionEncoder.Load(parse.GetValue(encoderOption)!.FullName,
                new VisionEncoderOptions { Device = parse.GetValue(deviceOption)!, ComputeDType = parse.GetValue(dtypeOption) }, cancellationToken);
            int layer = encoder.Model.NormalizeLayerIndex(parse.GetValue(layerOption));

            FileInfo? imageFile = parse.GetValue(imageOption);
            using Tensor pixelValues = imageFile is not null
                ? encoder.PreprocessFile(imageFile.FullName, new PreprocessOptions
                {
                    Mode = SharedOptions.ParseMode(parse.GetValue(preprocessOption)!),
                    Resolution = parse.GetValue(resolutionOption),
                    Enhancement = ImageEnhancer.Parse(parse.GetValue(enhanceOption)!),
                })
                : ReadPixelValues(parse.GetValue(pixelsOption)!.FullName);

            using EncoderOutput output = encoder.Forward(pixelValues, new EncoderRequest { HiddenStates = [layer] });
            string outPath = parse.GetValue(outOption)!.FullName;
            var tensors = new Dictionary<string, Tensor>
            {
                ["pixel_values"] = pixelValues,
                ["last_hidden_state"] = output.LastHiddenState![0].to(ScalarType.Float32, CPU),
                ["hidden_state_layer"] = output.HiddenStates[layer][0].to(ScalarType.Float32, CPU),
            };
            SafetensorsWriter.Write(outPath, tensors, SafetensorsDType.F32, new Dictionary<string, string>
            {
                ["encoder"] = encoder.Name,
                ["config_hash"] = encoder.Config.ConfigHash,
                ["layer"] = layer.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["source"] = imageFile?.Name ?? "pixel_values",
            });
            context.Output.WriteLine(
                $"wrote {outPath}: pixel_values {Shape(pixelValues)}, last_hidden_state {Shape(tensors["last_hidden_state"])}, " +
                $"hidden_state_layer {Shape(tensors["hidden_state_layer"])} (layer {layer} of {encoder.Config.NumHiddenLayers}); " +
                $"encoder {encoder.Name} on {encoder.Device.type.ToString().ToLowerInvariant()} {encoder.ComputeDType}, {watch.ElapsedMilliseconds} ms");
            return Task.FromResult(0);
        });
        return command;
    }

    private static Tensor ReadPixelValues(string path)
    {
        using SafetensorsFile file = SafetensorsFile.Open(path);
        if (!file.Tensors.TryGetValue("pixel_values", out SafetensorsTensorInfo? info))
        {
            throw new CheckpointException(path, "pixel_values", $"no such tensor; the file holds: {string.Join(", ", file.Tensors.Keys)}.");
        }
        long[] shape = info.Shape.Length == 4 && info.Shape[0] == 1 ? info.Shape[1..] : info.Shape;
        if (shape.Length != 3 || shape[0] != 3)
        {
            throw new CheckpointException(path, "pixel_values", $"shape {SafetensorsFile.FormatShape(info.Shape)}; expected [3, H, W] (or [1, 3, H, W]).");
        }
        using Tensor stored = file.Read("pixel_values");
        return stored.reshape(shape).to(ScalarType.Float32);
    }

    private static string Shape(Tensor t) => SafetensorsFile.FormatShape(t.shape);
}
