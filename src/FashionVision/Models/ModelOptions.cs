namespace FashionVision.Models;

/// <summary>
/// Options for building a zoo model with <see cref="ModelZoo.Create"/>. The defaults build a model for 28×28 grayscale images
/// and 10 classes (Fashion-MNIST, MNIST).
/// </summary>
/// <remarks>
/// Not every model uses every option: LeNet-5 has fixed widths and no attention, and <c>resnet18-imagenet</c> keeps
/// torchvision's widths so that its weights load. A model given an option it cannot honour throws
/// <see cref="ArgumentException"/> rather than silently ignoring it. Use <see cref="ModelZoo.DefaultOptions"/> to start from
/// a model's own defaults (3 input channels for <c>resnet18-imagenet</c>).
/// </remarks>
public sealed record ModelOptions
{
    /// <summary>Channels of the input images: 1 for grayscale (the default), 3 for RGB.</summary>
    public int InputChannels { get; init; } = 1;

    /// <summary>The number of classes the head predicts (default 10).</summary>
    public int NumClasses { get; init; } = 10;

    /// <summary>
    /// Dropout probability; <see langword="null"/> uses the model's own default (0.5 before the last layer of the small CNN
    /// and the VGG-style CNN, 0 elsewhere). In Wide ResNets it is the dropout between the two convolutions of each block,
    /// as in the paper (0.3 there); elsewhere it is applied before the final linear layer.
    /// </summary>
    public double? DropRate { get; init; }

    /// <summary>Attention inserted into every block (none by default). The <c>se-</c> and <c>cbam-</c> models set it themselves.</summary>
    public AttentionKind Attention { get; init; } = AttentionKind.None;

    /// <summary>
    /// Width multiplier applied to every layer's channel count (default 1). For Wide ResNets it replaces the widening factor
    /// <c>k</c> of the name when set; for the other models it scales the base widths (MobileNet's α).
    /// </summary>
    public double? Width { get; init; }

    /// <summary>
    /// The classifier on top of the embedding (default <see cref="HeadKind.Linear"/>). <see cref="HeadKind.Cosine"/> gives the
    /// cosine head ArcFace trains (see <see cref="ImageClassifier.UseHead"/>).
    /// </summary>
    public HeadKind Head { get; init; } = HeadKind.Linear;

    /// <summary>The scale s of a cosine head (default 16); cosine logits lie in [−s, s]. Only used with <see cref="HeadKind.Cosine"/>.</summary>
    public double CosineScale { get; init; } = ImageClassifier.DefaultCosineScale;

    /// <summary>
    /// The momentum of every BatchNorm layer's running statistics, in [0, 1]; <see langword="null"/> keeps PyTorch's 0.1.
    /// PyTorch's convention: <c>running = (1 − momentum)·running + momentum·batch</c> (Keras' 0.99 is PyTorch's 0.01). A model
    /// without BatchNorm (LeNet-5, the ViT) rejects it.
    /// </summary>
    public double? BatchNormMomentum { get; init; }

    /// <summary>
    /// The ε every BatchNorm layer adds to the variance, positive; <see langword="null"/> keeps PyTorch's 1e-5. It is part of
    /// the inference function, so checkpoints record it. A model without BatchNorm rejects it.
    /// </summary>
    public double? BatchNormEpsilon { get; init; }

    /// <summary>
    /// Explicit channel widths, one per channel group, as <see cref="Pruning.ChannelPruner"/> writes them (null: the
    /// architecture's own widths, scaled by <see cref="Width"/>). Only prunable models take it (<c>fast-cnn</c>: stem, stage 1,
    /// stage 2; the ResNets: four stage widths, then one inner width per block; see <see cref="Pruning.IChannelPrunable"/>),
    /// and it excludes <see cref="Width"/>. A checkpoint's manifest stores it with the other options, so a pruned model is
    /// rebuilt from the checkpoint alone.
    /// </summary>
    public IReadOnlyList<int>? ChannelWidths { get; init; }

    /// <summary>
    /// Seed for the initial weights: when set, <see cref="ModelZoo.Create"/> seeds torch's global generator
    /// (<c>torch.manual_seed</c>) before building, so the same seed gives the same weights on CPU.
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>
    /// Input preprocessing the model applies to itself (null = none): <see cref="ModelZoo.Create"/> then wraps the network in
    /// a <see cref="PreprocessedClassifier"/> that takes <see cref="InputChannels"/>-channel images of any size and hands the
    /// network what it was built for (e.g. <see cref="InputPreprocessing.ImageNet"/> lets <c>resnet18-imagenet</c> take
    /// 1×28×28 images). Stored in checkpoints with the other options, so every model rebuilt from one preprocesses alike.
    /// </summary>
    public InputPreprocessing? Preprocessing { get; init; }

    /// <summary>Value equality over every option, with <see cref="ChannelWidths"/> compared element by element.</summary>
    /// <param name="other">The options to compare with.</param>
    public bool Equals(ModelOptions? other) =>
        other is not null && InputChannels == other.InputChannels && NumClasses == other.NumClasses && DropRate == other.DropRate &&
        Attention == other.Attention && Width == other.Width && Head == other.Head && CosineScale == other.CosineScale &&
        BatchNormMomentum == other.BatchNormMomentum && BatchNormEpsilon == other.BatchNormEpsilon && Seed == other.Seed && Equals(Preprocessing, other.Preprocessing) &&
        (ChannelWidths is null ? other.ChannelWidths is null : other.ChannelWidths is not null && ChannelWidths.SequenceEqual(other.ChannelWidths));

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(InputChannels);
        hash.Add(NumClasses);
        hash.Add(DropRate);
        hash.Add(Attention);
        hash.Add(Width);
        hash.Add(Head);
        hash.Add(CosineScale);
        hash.Add(BatchNormMomentum);
        hash.Add(BatchNormEpsilon);
        hash.Add(Seed);
        hash.Add(Preprocessing);
        foreach (int width in ChannelWidths ?? [])
            hash.Add(width);
        return hash.ToHashCode();
    }

    private static readonly System.Text.Json.JsonSerializerOptions Reader = new()
    {
        PropertyNameCaseInsensitive = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>
    /// Reads options from JSON as checkpoints store them, whichever spelling wrote them: the library's (<c>"Head": "Cosine"</c>)
    /// or the CLI's camel case with kebab-case values (<c>"head": "cosine"</c>, <c>"attention": "squeeze-excitation"</c>).
    /// Absent properties keep their defaults.
    /// </summary>
    /// <param name="json">A JSON object.</param>
    /// <exception cref="System.Text.Json.JsonException">The text is not JSON, or a value does not fit its property.</exception>
    public static ModelOptions FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return System.Text.Json.JsonSerializer.Deserialize<ModelOptions>(json, Reader) ?? new ModelOptions();
    }
}
