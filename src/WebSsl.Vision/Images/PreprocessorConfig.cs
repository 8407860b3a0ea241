using System.Text.Json;
using System.Text.Json.Nodes;
using WebSsl.Vision.Checkpoints;

namespace WebSsl.Vision.Images;

/// <summary>The resampling filters of PIL that transformers' image processors name by number in <c>resample</c>.</summary>
public enum ResampleFilter
{
    Nearest = 0,
    Lanczos = 1,
    Bilinear = 2,
    Bicubic = 3,
    Box = 4,
}

/// <summary>
/// The parts of a transformers <c>preprocessor_config.json</c> (BitImageProcessor for Web-DINO, ViTImageProcessor for
/// Web-MAE) that decide the pixels the encoder sees.
/// </summary>
public sealed record PreprocessorConfig
{
    public static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f];
    public static readonly float[] ImageNetStd = [0.229f, 0.224f, 0.225f];

    public bool DoResize { get; init; } = true;

    /// <summary>Resize so the shorter side has this length (aspect kept); exclusive with <see cref="ResizeHeight"/>/<see cref="ResizeWidth"/>.</summary>
    public int? ShortestEdge { get; init; }

    public int? ResizeHeight { get; init; }
    public int? ResizeWidth { get; init; }
    public ResampleFilter Resample { get; init; } = ResampleFilter.Bicubic;
    public bool DoCenterCrop { get; init; }
    public int CropHeight { get; init; }
    public int CropWidth { get; init; }
    public bool DoRescale { get; init; } = true;
    public double RescaleFactor { get; init; } = 1.0 / 255.0;
    public bool DoNormalize { get; init; } = true;
    public float[] ImageMean { get; init; } = ImageNetMean;
    public float[] ImageStd { get; init; } = ImageNetStd;

    /// <summary>Height and width of the pixel tensor this config produces.</summary>
    public (int Height, int Width) OutputSize =>
        DoCenterCrop ? (CropHeight, CropWidth)
        : ResizeHeight is int h && ResizeWidth is int w ? (h, w)
        : (ShortestEdge ?? 0, ShortestEdge ?? 0);

    /// <summary>
    /// What transformers uses for DINOv2 when a checkpoint has no preprocessor_config.json: bicubic resize of the shortest
    /// edge to 256 then a 224 center crop at the 224 resolution; the 378 and 518 models are used at N x N.
    /// </summary>
    public static PreprocessorConfig DefaultFor(int imageSize) => new()
    {
        ShortestEdge = imageSize == 224 ? 256 : imageSize,
        DoCenterCrop = true,
        CropHeight = imageSize,
        CropWidth = imageSize,
    };

    public static PreprocessorConfig Load(string path) => Parse(File.ReadAllText(path), path);

    public static PreprocessorConfig Parse(string json, string path)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new CheckpointException(path, null, "preprocessor_config.json must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, null, $"preprocessor_config.json is not valid JSON ({e.Message}).", e);
        }
        bool doResize = Bool(root, "do_resize", true, path);
        int? shortest = null, height = null, width = null;
        switch (root["size"])
        {
            case JsonObject size when size["shortest_edge"] is not null:
                shortest = PositiveInt(size["shortest_edge"], "size.shortest_edge", path);
                break;
            case JsonObject size when size["height"] is not null && size["width"] is not null:
                height = PositiveInt(size["height"], "size.height", path);
                width = PositiveInt(size["width"], "size.width", path);
                break;
            case JsonValue value:
                height = width = PositiveInt(value, "size", path);
                break;
            case null when !doResize:
                break;
            case null:
                throw new CheckpointException(path, "size", "missing; expected {\"shortest_edge\": N} or {\"height\": H, \"width\": W}.");
            default:
                throw new CheckpointException(path, "size", $"unsupported value {root["size"]!.ToJsonString()}; expected {{\"shortest_edge\": N}} or {{\"height\": H, \"width\": W}}.");
        }
        int resampleCode = root["resample"] is JsonNode r ? PositiveOrZeroInt(r, "resample", path) : 3;
        if (!Enum.IsDefined(typeof(ResampleFilter), resampleCode))
        {
            throw new CheckpointException(path, "resample", $"PIL filter {resampleCode} is not supported (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box).");
        }
        bool doCrop = Bool(root, "do_center_crop", false, path);
        int cropHeight = 0, cropWidth = 0;
        if (doCrop)
        {
            switch (root["crop_size"])
            {
                case JsonObject crop:
                    cropHeight = PositiveInt(crop["height"], "crop_size.height", path);
                    cropWidth = PositiveInt(crop["width"], "crop_size.width", path);
                    break;
                case JsonValue value:
                    cropHeight = cropWidth = PositiveInt(value, "crop_size", path);
                    break;
                default:
                    throw new CheckpointException(path, "crop_size", "do_center_crop is true but crop_size is missing.");
            }
        }
        return new PreprocessorConfig
        {
            DoResize = doResize,
            ShortestEdge = shortest,
            ResizeHeight = height,
            ResizeWidth = width,
            Resample = (ResampleFilter)resampleCode,
            DoCenterCrop = doCrop,
            CropHeight = cropHeight,
            CropWidth = cropWidth,
            DoRescale = Bool(root, "do_rescale", true, path),
            RescaleFactor = root["rescale_factor"] is JsonNode f ? f.GetValue<double>() : 1.0 / 255.0,
            DoNormalize = Bool(root, "do_normalize", true, path),
            ImageMean = Triple(root, "image_mean", ImageNetMean, path),
            ImageStd = Triple(root, "image_std", ImageNetStd, path),
        };
    }

    /// <summary>Writes the BitImageProcessor form of this config (used by the fixture generator).</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["image_processor_type"] = "BitImageProcessor",
            ["do_resize"] = DoResize,
            ["resample"] = (int)Resample,
            ["do_center_crop"] = DoCenterCrop,
            ["do_rescale"] = DoRescale,
            ["rescale_factor"] = RescaleFactor,
            ["do_normalize"] = DoNormalize,
            ["do_convert_rgb"] = true,
            ["image_mean"] = new JsonArray(ImageMean.Select(v => (JsonNode)(double)v).ToArray()),
            ["image_std"] = new JsonArray(ImageStd.Select(v => (JsonNode)(double)v).ToArray()),
        };
        json["size"] = ShortestEdge is int s ? new JsonObject { ["shortest_edge"] = s } : new JsonObject { ["height"] = ResizeHeight, ["width"] = ResizeWidth };
        if (DoCenterCrop)
        {
            json["crop_size"] = new JsonObject { ["height"] = CropHeight, ["width"] = CropWidth };
        }
        return json;
    }

    private static bool Bool(JsonObject root, string key, bool fallback, string path) => root[key]?.GetValueKind() switch
    {
        null or JsonValueKind.Null => fallback,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new CheckpointException(path, key, $"expected true or false, found {root[key]!.ToJsonString()}."),
    };

    private static int PositiveInt(JsonNode? node, string key, string path)
    {
        int value = PositiveOrZeroInt(node, key, path);
        return value > 0 ? value : throw new CheckpointException(path, key, "expected a positive integer.");
    }

    private static int PositiveOrZeroInt(JsonNode? node, string key, string path) =>
        node?.GetValueKind() == JsonValueKind.Number && node.GetValue<double>() is var d && d == Math.Floor(d) && d >= 0 && d < int.MaxValue
            ? (int)d
            : throw new CheckpointException(path, key, $"expected a non-negative integer, found {node?.ToJsonString() ?? "nothing"}.");

    private static float[] Triple(JsonObject root, string key, float[] fallback, string path)
    {
        switch (root[key])
        {
            case null:
                return fallback;
            case JsonArray array when array.Count == 3 && array.All(v => v?.GetValueKind() == JsonValueKind.Number):
                return array.Select(v => (float)v!.GetValue<double>()).ToArray();
            case JsonValue value when value.GetValueKind() == JsonValueKind.Number:
                return [(float)value.GetValue<double>(), (float)value.GetValue<double>(), (float)value.GetValue<double>()];
            default:
                throw new CheckpointException(path, key, $"expected three numbers (one per RGB channel), found {root[key]!.ToJsonString()}.");
        }
    }
}
