using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Targeted augmentation: runs a transform (or chain) only on the samples whose class is in <see cref="Classes"/>, e.g. extra
/// augmentation for the confusable Shirt (6) and T-shirt/top (0) of Fashion-MNIST. Every other sample is left exactly as it was.
/// </summary>
/// <remarks>Needs class indices: place it before CutMix or Mixup.</remarks>
public sealed class ClassConditional : BatchTransform
{
    private readonly long[] _classes;

    /// <summary>Creates the transform.</summary>
    /// <param name="transform">The transform for the chosen classes; it must keep the image size.</param>
    /// <param name="classes">The class indices to augment (at least one, each ≥ 0).</param>
    public ClassConditional(IBatchTransform transform, params int[] classes)
    {
        Inner = transform ?? throw new ArgumentNullException(nameof(transform));
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Length == 0)
            throw new ArgumentException("At least one class is needed.", nameof(classes));
        if (classes.Any(c => c < 0))
            throw new ArgumentOutOfRangeException(nameof(classes), "Class indices must be non-negative.");
        _classes = classes.Distinct().Order().Select(c => (long)c).ToArray();
    }

    /// <summary>The wrapped transform.</summary>
    public IBatchTransform Inner { get; }

    /// <summary>The classes whose samples are transformed.</summary>
    public IReadOnlyList<long> Classes => _classes;

    /// <inheritdoc />
    public override bool IsIdentity => Inner is BatchTransform { IsIdentity: true };

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) ApplyCore(Tensor images, Tensor targets, Generator generator)
    {
        if (targets.dim() != 1)
            throw new ArgumentException("ClassConditional needs class indices (int64, N); put CutMix and Mixup after it.", nameof(targets));
        var chosen = tensor(_classes, device: targets.device);
        var selected = targets.isin(chosen);
        return SampleSubset.Apply(Inner, images, targets, selected, generator);
    }

    /// <inheritdoc />
    public override string Describe() => $"ClassConditional({Inner.Describe()}, classes=[{string.Join(", ", _classes)}])";
}
