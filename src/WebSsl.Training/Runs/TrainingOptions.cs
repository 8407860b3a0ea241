namespace WebSsl.Training.Runs;

/// <summary>How a projector is trained. Defaults follow LLaVA-1.5 stage 1 (lr 1e-3, 3% warmup, cosine, no weight decay, one epoch).</summary>
public sealed record TrainingOptions
{
    public double Epochs { get; init; } = 1;

    /// <summary>Stop after this many optimizer steps (overrides epochs).</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Records per micro-batch.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Micro-batches per optimizer step.</summary>
    public int GradientAccumulation { get; init; } = 1;

    public double LearningRate { get; init; } = 1e-3;
    public double WarmupRatio { get; init; } = 0.03;
    public double WeightDecay { get; init; }
    public double MaxGradNorm { get; init; } = 1.0;
    public int Seed { get; init; } = 42;

    /// <summary>Write a checkpoint every this many steps (and at the end).</summary>
    public int CheckpointEvery { get; init; } = 100;

    /// <summary>Checkpoints kept on disk (oldest removed first).</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Validation loss and answer accuracy every this many steps (and at the end).</summary>
    public int ValidateEvery { get; init; } = 100;

    public double ValidationFraction { get; init; } = 0.05;
    public int ValidationMax { get; init; } = 64;

    /// <summary>Tokens generated per validation answer.</summary>
    public int GenerationMaxTokens { get; init; } = 32;

    public string Projector { get; init; } = Multimodal.Projectors.ProjectorConfig.Default;

    /// <summary>Resize the patch grid to this many tokens per side before projecting (e.g. 24 for 576 tokens).</summary>
    public int? TokenGrid { get; init; }

    /// <summary>
    /// Merge each n×n block of patch features into one token before projecting (2: InternVL's pixel shuffle, 4× fewer
    /// tokens); null merges nothing.
    /// </summary>
    public int? TokenMerge { get; init; }

    /// <summary>Read each image as a global view plus tiles (recorded in the adapter, used alike when serving); null: one view.</summary>
    public Vision.Images.Tiling.TilingOptions? Tiling { get; init; }

    /// <summary>Longest training sequence (text + image positions).</summary>
    public int MaxSequenceLength { get; init; } = 2048;

    /// <summary>Fail on any bad record instead of dropping it.</summary>
    public bool Strict { get; init; }

    /// <summary>How closely the training copy of the LLM must match llama.cpp; null = the default for its weight types.</summary>
    public Llm.LlmCheckCriterion? LlmCheck { get; init; }

    /// <summary>What is trained: the projector (stage 1), also the LLM (stage 2), or also the encoder.</summary>
    public TuneMode Tune { get; init; } = TuneMode.Projector;

    /// <summary>Continue from the newest checkpoint in the output folder when there is one.</summary>
    public bool Resume { get; init; } = true;

    internal void Validate()
    {
        if (BatchSize < 1 || GradientAccumulation < 1 || LearningRate <= 0 || WarmupRatio is < 0 or >= 1 || MaxGradNorm <= 0
            || CheckpointEvery < 1 || ValidateEvery < 1 || ValidationFraction is < 0 or >= 1 || Epochs <= 0 || MaxSteps is < 1)
        {
            throw new BadInputException($"training options out of range: {this}.");
        }
    }
}

/// <summary>One line of progress, reported after every optimizer step.</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, double Epoch, double Loss, double LearningRate, double SamplesPerSecond,
    TimeSpan Elapsed, TimeSpan Remaining, string? Message = null);

/// <summary>Validation at one step: loss on held-out records, and answers generated through llama.cpp.</summary>
public sealed record ValidationResult(int Step, double Loss, double ExactMatch, double RelaxedAccuracy, int Records);

/// <summary>What a finished run produced.</summary>
public sealed record TrainingResult(string AdapterDirectory, int Steps, int ResumedFromStep, double FinalTrainLoss, ValidationResult? Validation,
    int TrainRecords, int ValidationRecords, int DroppedRecords, int FeatureCacheHits, int FeatureCacheMisses);

/// <summary>A run that cannot start as configured (an LLM the trainer cannot reproduce, a checkpoint of another run...).</summary>
public sealed class TrainingSetupException(string message) : WebSslException(ProblemKind.ModelMismatch, "training-setup", message);

/// <summary>Training stopped because the loss became NaN or infinite.</summary>
public sealed class TrainingDivergedException(string message) : WebSslException(ProblemKind.JobFailed, "training-diverged", message);
