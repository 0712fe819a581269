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
}
