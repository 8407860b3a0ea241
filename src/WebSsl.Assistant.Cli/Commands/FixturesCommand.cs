using System.CommandLine;
using WebSsl.Language.Fixtures;
using WebSsl.Vision.Checkpoints;
using WebSsl.Vision.Fixtures;
using WebSsl.Vision.Images;

namespace WebSsl.Assistant.Cli.Commands;

/// <summary><c>webssl fixtures encoder</c>: random-weight checkpoints in the exact HuggingFace Web-SSL layout.</summary>
internal static class FixturesCommand
{
    public static Command Create(CliContext context) => new("fixtures", "Generate models in the exact published layouts (for trying commands and for tests without downloads).")
    {
        Encoder(context),
        Llm(context),
    };

    private static Command Llm(CliContext context)
    {
        var shape = new Option<string>("--shape")
        {
            DefaultValueFactory = _ => "tiny",
            Description = $"One of {string.Join(", ", LlamaShape.Named.Keys)}.",
        };
        var output = new Option<FileInfo>("--out") { Required = true, Description = "The .gguf file to write." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 7 };
        var command = new Command("llm", "Write a random-weight llama/qwen2 GGUF with a byte-fallback vocabulary and a ChatML template.") { shape, output, seed };
        command.SetAction((parse, _) =>
        {
            LlamaShape llama = LlamaShape.Get(parse.GetValue(shape)!);
            string path = parse.GetValue(output)!.FullName;
            TinyLlamaBuilder.WriteRandom(path, llama, parse.GetValue(seed));
            context.Output.WriteLine($"wrote a random {parse.GetValue(shape)} model ({llama.Architecture}, {llama.BlockCount} layers, n_embd {llama.EmbeddingLength}) to {path}");
            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Encoder(CliContext context)
    {
        var shape = new Option<string>("--shape") { DefaultValueFactory = _ => "tiny", Description = $"One of {string.Join(", ", CheckpointGenerator.Shapes.Keys)}." };
        var output = new Option<DirectoryInfo>("--out") { Required = true, Description = "Folder to write config.json and safetensors into." };
        var dtype = new Option<string>("--stored") { DefaultValueFactory = _ => "F32", Description = "F32, F16 or BF16." };
        var shardMb = new Option<int?>("--shard-mb") { Description = "Split into shards of at most this many MB with model.safetensors.index.json." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1234, Description = "Weights are a function of the seed and tensor name." };
        var command = new Command("encoder", "Write a random-weight Web-DINO / Web-MAE checkpoint folder.") { shape, output, dtype, shardMb, seed };
        command.SetAction((parse, _) =>
        {
            string name = parse.GetValue(shape)!;
            VisionConfig config = CheckpointGenerator.Shape(name);
            string folder = parse.GetValue(output)!.FullName;
            CheckpointGenerator.Write(folder, config, new GeneratorOptions
            {
                DType = Enum.Parse<SafetensorsDType>(parse.GetValue(dtype)!, ignoreCase: true),
                MaxShardBytes = parse.GetValue(shardMb) is int mb ? mb * 1024L * 1024 : null,
                Seed = parse.GetValue(seed),
                Preprocessor = PreprocessorConfig.DefaultFor(config.ImageSize),
            });
            context.Output.WriteLine($"wrote a random {name} checkpoint ({config.Architecture}, hidden {config.HiddenSize}, {config.NumHiddenLayers} layers) to {folder}");
            return Task.FromResult(0);
        });
        return command;
    }
}
