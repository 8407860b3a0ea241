using System.Text.Json.Nodes;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Models;
using WebSsl.Vision.Tests.Models;
using static TorchSharp.torch;

namespace WebSsl.Vision.Tests.Checkpoints;

public sealed class CheckpointLoadingTests : IDisposable
{
    private static readonly VisionConfig Tiny = CheckpointGenerator.Shapes["tiny"];
    private readonly TempDirectory _temp = new();

    [Theory]
    [InlineData(SafetensorsDType.F32)]
    [InlineData(SafetensorsDType.F16)]
    [InlineData(SafetensorsDType.BF16)]
    public void Every_parameter_holds_exactly_the_stored_value_computed_in_float32_on_cpu(SafetensorsDType dtype)
    {
        string dir = Generate(new GeneratorOptions { DType = dtype });
        using VisionEncoder encoder = VisionEncoder.Load(dir);
        Assert.Equal(ScalarType.Float32, encoder.ComputeDType);
        using VisionCheckpoint checkpoint = VisionCheckpoint.Open(dir);
        Assert.Equal(dtype, checkpoint.StoredDType);
        var parameters = encoder.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(checkpoint.Tensors.Keys.Order(), parameters.Keys.Order());
        foreach (var (name, stored) in checkpoint.Tensors)
        {
            using Tensor expected = stored.File.Read(name).to(ScalarType.Float32);
            TensorAssert.Identical(expected, parameters[name], name);
        }
    }

    [Fact]
    public void A_sharded_checkpoint_loads_to_the_same_model_as_a_single_file()
    {
        string single = Generate(new GeneratorOptions());
        string sharded = Generate(new GeneratorOptions { MaxShardBytes = 20_000 });
        Assert.True(File.Exists(Path.Combine(sharded, VisionCheckpoint.IndexFile)));
        Assert.True(Directory.GetFiles(sharded, "model-*-of-*.safetensors").Length >= 3);
        AssertSameOutputs(single, sharded);
    }

    [Fact]
    public void Keys_saved_with_the_base_model_prefix_load_like_transformers_strips_them()
    {
        AssertSameOutputs(Generate(new GeneratorOptions()), Generate(new GeneratorOptions { KeyPrefix = "dinov2." }));
    }

    [Fact]
    public void A_missing_tensor_is_named_with_the_shape_the_config_needs()
    {
        string dir = Generate(new GeneratorOptions());
        RewriteWeights(dir, tensors => tensors.Remove("encoder.layer.1.mlp.weights_out.weight"));
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(dir));
        Assert.Equal("encoder.layer.1.mlp.weights_out.weight", error.Key);
        Assert.Contains("missing from the checkpoint", error.Message);
        Assert.Contains("[32, 88]", error.Message);
    }

    [Fact]
    public void An_unexpected_tensor_is_refused_rather_than_ignored()
    {
        string dir = Generate(new GeneratorOptions());
        RewriteWeights(dir, tensors => tensors["classifier.weight"] = zeros(10, 64));
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(dir));
        Assert.Equal("classifier.weight", error.Key);
        Assert.Contains("is not a parameter of Dinov2Model", error.Message);
        Assert.EndsWith("model.safetensors", error.File);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_names_both_shapes()
    {
        string dir = Generate(new GeneratorOptions());
        RewriteWeights(dir, tensors => tensors["layernorm.weight"] = ones(31));
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(dir));
        Assert.Equal("layernorm.weight", error.Key);
        Assert.Contains("has shape [31], but Dinov2Model", error.Message);
        Assert.Contains("expects [32]", error.Message);
    }

    [Fact]
    public void A_config_that_does_not_match_the_weights_lists_every_problem()
    {
        string dir = Generate(new GeneratorOptions());
        EditConfig(dir, config => config["num_hidden_layers"] = 3);
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(dir));
        Assert.StartsWith("encoder.layer.2.", error.Key);
        Assert.Contains("more problem(s)", error.Message);
    }

    [Fact]
    public void A_truncated_weights_file_is_refused_naming_the_file()
    {
        string dir = Generate(new GeneratorOptions());
        string weights = Path.Combine(dir, VisionCheckpoint.SingleWeightsFile);
        byte[] bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(dir));
        Assert.Equal(weights, error.File);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_shard_listed_in_the_index_but_absent_is_reported()
    {
        string dir = Generate(new GeneratorOptions { MaxShardBytes = 20_000 });
        string shard = Directory.GetFiles(dir, "model-00002-of-*.safetensors").Single();
        File.Delete(shard);
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(dir));
        Assert.Contains(Path.GetFileName(shard), error.Message);
        Assert.Contains("not in the folder", error.Message);
    }

    [Fact]
    public void A_shard_holding_a_tensor_the_index_does_not_list_is_reported()
    {
        string dir = Generate(new GeneratorOptions { MaxShardBytes = 20_000 });
        string indexPath = Path.Combine(dir, VisionCheckpoint.IndexFile);
        var index = JsonNode.Parse(File.ReadAllText(indexPath))!;
        index["weight_map"]!.AsObject().Remove("layernorm.bias");
        File.WriteAllText(indexPath, index.ToJsonString());
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(dir));
        Assert.Equal("layernorm.bias", error.Key);
        Assert.Contains("not in the index", error.Message);
    }

    [Fact]
    public void A_shard_name_outside_the_folder_is_refused()
    {
        string dir = Generate(new GeneratorOptions { MaxShardBytes = 20_000 });
        string indexPath = Path.Combine(dir, VisionCheckpoint.IndexFile);
        var index = JsonNode.Parse(File.ReadAllText(indexPath))!;
        index["weight_map"]!["layernorm.bias"] = "../../etc/passwd";
        File.WriteAllText(indexPath, index.ToJsonString());
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(dir));
        Assert.Contains("plain file name", error.Message);
    }

    [Fact]
    public void A_folder_with_only_pytorch_bin_weights_says_what_to_do()
    {
        string dir = _temp.Sub("bin-only");
        File.WriteAllText(Path.Combine(dir, "config.json"), Tiny.ToJson().ToJsonString());
        File.WriteAllBytes(Path.Combine(dir, "pytorch_model.bin"), [0x50, 0x4B, 3, 4]);
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(dir));
        Assert.Contains("safetensors", error.Message);
        Assert.Contains("save_pretrained", error.Message);
    }

    [Fact]
    public void A_folder_without_config_json_is_refused()
    {
        string dir = _temp.Sub("no-config");
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(dir));
        Assert.Contains("config.json not found", error.Message);
    }

    [Fact]
    public void The_web_mae_pooler_is_checked_but_not_required()
    {
        VisionConfig mae = CheckpointGenerator.Shapes["tiny-mae"];
        string withPooler = _temp.Sub("with-pooler"), withoutPooler = _temp.Sub("without-pooler");
        CheckpointGenerator.Write(withPooler, mae, new GeneratorOptions { VitPooler = true });
        CheckpointGenerator.Write(withoutPooler, mae, new GeneratorOptions { VitPooler = false });
        AssertSameOutputs(withPooler, withoutPooler);

        RewriteWeights(withPooler, tensors => tensors["pooler.dense.weight"] = zeros(32, 16));
        var error = Assert.Throws<CheckpointException>(() => VisionEncoder.Load(withPooler));
        Assert.Equal("pooler.dense.weight", error.Key);
    }

    [Fact]
    public void The_encoder_name_of_a_huggingface_cache_snapshot_is_its_repository()
    {
        string snapshot = Path.Combine(_temp.Path, "hub", "models--facebook--webssl-dino300m-full2b-224", "snapshots", "abc123");
        CheckpointGenerator.Write(snapshot, Tiny);
        using VisionCheckpoint checkpoint = VisionCheckpoint.Open(snapshot);
        Assert.Equal("facebook/webssl-dino300m-full2b-224", checkpoint.Name);
    }

    private string Generate(GeneratorOptions options)
    {
        string dir = _temp.Sub(Guid.NewGuid().ToString("N")[..8]);
        CheckpointGenerator.Write(dir, Tiny, options);
        return dir;
    }

    private static void AssertSameOutputs(string a, string b)
    {
        using VisionEncoder first = VisionEncoder.Load(a), second = VisionEncoder.Load(b);
        using Tensor pixels = ForwardEquivalenceTests.RandomPixels(1, first.Config.ImageSize, first.Config.ImageSize, seed: 11);
        using EncoderOutput x = first.Forward(pixels, EncoderRequest.LastOnly), y = second.Forward(pixels, EncoderRequest.LastOnly);
        TensorAssert.Identical(x.LastHiddenState!, y.LastHiddenState!);
    }

    private static void RewriteWeights(string dir, Action<Dictionary<string, Tensor>> edit)
    {
        string path = Path.Combine(dir, VisionCheckpoint.SingleWeightsFile);
        var tensors = new Dictionary<string, Tensor>();
        using (SafetensorsFile file = SafetensorsFile.Open(path))
        {
            foreach (string name in file.Tensors.Keys)
            {
                tensors[name] = file.Read(name);
            }
        }
        edit(tensors);
        SafetensorsWriter.Write(path, tensors);
    }

    private static void EditConfig(string dir, Action<JsonObject> edit)
    {
        string path = Path.Combine(dir, VisionCheckpoint.ConfigFile);
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(config);
        File.WriteAllText(path, config.ToJsonString());
    }

    public void Dispose() => _temp.Dispose();
}
