namespace FashionVision.Onnx;

/// <summary>How <see cref="OnnxExporter"/> writes a model. The defaults export a 1×28×28 classifier at opset 17.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The lowest opset the exporter writes.</summary>
    public const int MinimumOpset = 17;

    /// <summary>The highest opset the exporter writes (and ONNX Runtime 1.31 runs).</summary>
    public const int MaximumOpset = 21;

    /// <summary>Input channels (1 for grayscale).</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Input height in pixels.</summary>
    public int Height { get; init; } = 28;

    /// <summary>Input width in pixels.</summary>
    public int Width { get; init; } = 28;

    /// <summary>The default-domain opset version, from <see cref="MinimumOpset"/> to <see cref="MaximumOpset"/>.</summary>
    public int Opset { get; init; } = MinimumOpset;

    /// <summary>The graph input's name. Its first dimension is the symbolic batch size <c>"N"</c>.</summary>
    public string InputName { get; init; } = "input";

    /// <summary>The graph output's name (logits N × classes).</summary>
    public string OutputName { get; init; } = "logits";

    /// <summary>Class names in class-index order, stored in the metadata. Empty: "0", "1", ... are stored.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Per-channel mean the caller subtracts from [0, 1] pixels before the model (stored in the metadata). Null: none.</summary>
    public IReadOnlyList<float>? Mean { get; init; }

    /// <summary>Per-channel standard deviation the caller divides by (stored in the metadata). Null: none.</summary>
    public IReadOnlyList<float>? Std { get; init; }

    /// <summary>
    /// Folds an inference-mode BatchNorm2d into the convolution right before it (fewer nodes, faster). False exports
    /// <c>BatchNormalization</c> nodes.
    /// </summary>
    public bool FoldBatchNorm { get; init; } = true;

    /// <summary>The producer name written into the model.</summary>
    public string ProducerName { get; init; } = "FashionVision";

    /// <summary>The producer version written into the model.</summary>
    public string ProducerVersion { get; init; } =
        typeof(OnnxExportOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The graph name. Null: the model's module name.</summary>
    public string? GraphName { get; init; }

    /// <summary>A human-readable description written into the model.</summary>
    public string? DocString { get; init; }

    /// <summary>Checks every option and throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Channels <= 0) throw new ArgumentOutOfRangeException(nameof(Channels), Channels, "Channels must be positive.");
        if (Height <= 0) throw new ArgumentOutOfRangeException(nameof(Height), Height, "Height must be positive.");
        if (Width <= 0) throw new ArgumentOutOfRangeException(nameof(Width), Width, "Width must be positive.");
        if (Opset is < MinimumOpset or > MaximumOpset)
            throw new ArgumentOutOfRangeException(nameof(Opset), Opset, $"Opset must be from {MinimumOpset} to {MaximumOpset}.");
        if (string.IsNullOrWhiteSpace(InputName)) throw new ArgumentException("The input name must not be empty.", nameof(InputName));
        if (string.IsNullOrWhiteSpace(OutputName)) throw new ArgumentException("The output name must not be empty.", nameof(OutputName));
        if (InputName == OutputName) throw new ArgumentException("The input and output names must differ.", nameof(OutputName));
        if (ClassNames is null) throw new ArgumentNullException(nameof(ClassNames));
        if ((Mean is null) != (Std is null))
            throw new ArgumentException("Mean and Std must be given together.", Mean is null ? nameof(Mean) : nameof(Std));
        if (Mean is not null && Std is not null)
        {
            if (Mean.Count != Channels)
                throw new ArgumentException($"Mean has {Mean.Count} values for {Channels} channels.", nameof(Mean));
            if (Std.Count != Channels)
                throw new ArgumentException($"Std has {Std.Count} values for {Channels} channels.", nameof(Std));
            if (Std.Any(s => !(s > 0) || float.IsInfinity(s)))
                throw new ArgumentException("Every Std value must be positive and finite.", nameof(Std));
            if (Mean.Any(m => !float.IsFinite(m)))
                throw new ArgumentException("Every Mean value must be finite.", nameof(Mean));
        }
    }
}
