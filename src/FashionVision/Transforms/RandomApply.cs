using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Runs a transform (or chain) on each sample with probability <see cref="P"/>: the selected samples are gathered, transformed
/// together and written back; the others are left exactly as they were.
/// </summary>
public sealed class RandomApply : BatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="transform">The transform to run on the selected samples; it must keep the image size.</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    public RandomApply(IBatchTransform transform, double p = 0.5)
    {
        Inner = transform ?? throw new ArgumentNullException(nameof(transform));
        P = TransformGuard.Probability(p, nameof(p));
    }

    /// <summary>The wrapped transform.</summary>
    public IBatchTransform Inner { get; }

    /// <summary>The per-sample probability.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override bool IsIdentity => P == 0 || Inner is BatchTransform { IsIdentity: true };

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) ApplyCore(Tensor images, Tensor targets, Generator generator)
    {
        var selected = RandomBatchTransform.DrawApplied(images.shape[0], P, generator);
        return SampleSubset.Apply(Inner, images, targets, selected, generator);
    }

    /// <inheritdoc />
    public override string Describe() => $"RandomApply({Inner.Describe()}, p={TransformGuard.Format(P)})";
}
