namespace FashionVision.TorchVision.Weights;

/// <summary>How <see cref="PyTorchWeights.Load"/> fits a file's state dict to a model.</summary>
public sealed record WeightLoadOptions
{
    /// <summary>The defaults: strict names, the head kept when its shape differs, RGB stems adapted to grey.</summary>
    public static WeightLoadOptions Default { get; } = new();

    /// <summary>
    /// Whether the names must match exactly (default true): every model key present in the file and every file key present
    /// in the model, apart from a head kept by <see cref="KeepMismatchedHead"/> and BatchNorm's <c>num_batches_tracked</c>.
    /// When false, missing and unexpected keys are reported instead. Shapes must always match.
    /// </summary>
    public bool Strict { get; init; } = true;

    /// <summary>
    /// Whether the model keeps its freshly initialised classifier when the file's has another shape (default true): the
    /// transfer-learning case, ImageNet's 1000 classes into a 10-class model. The kept keys are reported.
    /// </summary>
    public bool KeepMismatchedHead { get; init; } = true;

    /// <summary>
    /// Whether a convolution weight trained on RGB (out × 3 × k × k) loads into a one-channel model's out × 1 × k × k by summing
    /// over its input channels (default true): on a grey image repeated to RGB the result is the same.
    /// </summary>
    public bool AdaptInputChannels { get; init; } = true;

    /// <summary>
    /// Maps a file key to the model's key, or to null to skip it; null uses the default, which strips the prefixes that
    /// <c>DataParallel</c> (<c>module.</c>), Lightning-style wrappers (<c>model.</c>) and <c>torch.compile</c> (<c>_orig_mod.</c>) add.
    /// </summary>
    public Func<string, string?>? MapName { get; init; }
}
