using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Fixtures;

namespace WebSsl.Vision.Tests.Checkpoints;

public sealed class VisionConfigTests
{
    [Theory]
    [InlineData("dino300m", 1024, 2736, 64)]
    [InlineData("dino1b", 1536, 4096, 64)]
    [InlineData("dino2b", 2688, 7168, 128)]
    [InlineData("dino3b", 3072, 8192, 128)]
    [InlineData("dino5b", 3584, 9560, 128)]
    [InlineData("dino7b", 4096, 10928, 128)]
    public void Every_published_Web_DINO_size_gets_the_SwiGLU_width_transformers_computes(string shape, int hidden, int swiglu, int headDim)
    {
        VisionConfig config = CheckpointGenerator.Shapes[shape];
        Assert.Equal(hidden, config.HiddenSize);
        Assert.Equal(swiglu, config.MlpHiddenSize);
        Assert.Equal(headDim, config.HeadDim);
    }

    [Fact]
    public void A_web_dino_config_as_published_parses_with_transformers_defaults_for_missing_fields()
    {
        const string json = """
            {"architectures":["Dinov2Model"],"model_type":"dinov2","hidden_size":1024,"num_hidden_layers":24,
             "num_attention_heads":16,"mlp_ratio":4,"use_swiglu_ffn":true,"image_size":224,"patch_size":14,
             "layerscale_value":1e-05,"drop_path_rate":0.0,"torch_dtype":"float32","hidden_act":"gelu"}
            """;
        VisionConfig config = VisionConfig.Parse(json, "config.json");
        Assert.Equal(VisionArchitecture.Dinov2, config.Architecture);
        Assert.Equal(1e-6, config.LayerNormEps);
        Assert.True(config.QkvBias);
        Assert.True(config.UseMaskToken);
        Assert.True(config.UseLayerScale);
        Assert.Equal(16, config.PositionGrid);
        Assert.Equal("float32", config.TorchDtype);
    }

    [Fact]
    public void A_web_mae_config_uses_ViT_defaults()
    {
        VisionConfig config = VisionConfig.Parse("""{"model_type":"vit","hidden_size":1024,"num_hidden_layers":24,"num_attention_heads":16,"intermediate_size":4096}""", "c.json");
        Assert.Equal(VisionArchitecture.Vit, config.Architecture);
        Assert.Equal(16, config.PatchSize);
        Assert.Equal(1e-12, config.LayerNormEps);
        Assert.False(config.UseLayerScale);
        Assert.Equal(4096, config.MlpHiddenSize);
    }

    [Fact]
    public void The_config_hash_ignores_formatting_but_not_values()
    {
        string a = VisionConfig.Parse("""{"model_type":"dinov2","hidden_size":64,"num_attention_heads":4}""", "a").ConfigHash;
        string b = VisionConfig.Parse("""{ "num_attention_heads": 4,   "hidden_size": 64, "model_type": "dinov2" }""", "b").ConfigHash;
        string c = VisionConfig.Parse("""{"model_type":"dinov2","hidden_size":64,"num_attention_heads":8}""", "c").ConfigHash;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData("""{"model_type":"clip_vision_model"}""", "model_type", "not supported")]
    [InlineData("""{"hidden_size":64}""", "model_type", "missing")]
    [InlineData("""{"model_type":"dinov2_with_registers"}""", "model_type", "register tokens")]
    [InlineData("""{"model_type":"dinov2","num_register_tokens":4}""", "num_register_tokens", "not supported")]
    [InlineData("""{"model_type":"dinov2","hidden_size":100,"num_attention_heads":16}""", "num_attention_heads", "not a multiple")]
    [InlineData("""{"model_type":"dinov2","hidden_act":"mish"}""", "hidden_act", "\"mish\" is not supported")]
    [InlineData("""{"model_type":"dinov2","patch_size":[14,16]}""", "patch_size", "only square")]
    [InlineData("""{"model_type":"dinov2","image_size":225}""", "image_size", "not a multiple of patch_size")]
    [InlineData("""{"model_type":"dinov2","hidden_size":"big"}""", "hidden_size", "expected a number")]
    [InlineData("""{"model_type":"vit","use_mask_token":true}""", "use_mask_token", "not supported")]
    public void Unsupported_or_malformed_fields_are_refused_by_name(string json, string key, string expected)
    {
        var error = Assert.Throws<CheckpointException>(() => VisionConfig.Parse(json, "/models/x/config.json"));
        Assert.Equal(key, error.Key);
        Assert.Contains(expected, error.Message);
        Assert.StartsWith("/models/x/config.json", error.Message);
    }
}
