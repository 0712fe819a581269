using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// The base of every FashionVision transform: it checks the batch, runs <see cref="ApplyCore"/> inside its own dispose scope
/// and hands only the results to the caller's scope.
/// </summary>
public abstract class BatchTransform : IBatchTransform
{
    /// <summary>Whether the transform leaves every batch unchanged (then <see cref="Apply"/> returns its inputs as they are).</summary>
    public virtual bool IsIdentity => false;

    /// <inheritdoc />
    public (Tensor Images, Tensor Targets) Apply(Tensor images, Tensor targets, Generator generator)
    {
        TransformGuard.Batch(images, targets);
        ArgumentNullException.ThrowIfNull(generator);
        if (IsIdentity)
            return (images, targets);
        using var scope = NewDisposeScope();
        var (outImages, outTargets) = ApplyCore(images, targets, generator);
        if (scope.Contains(outImages))
            scope.MoveToOuter(outImages);
        if (scope.Contains(outTargets))
            scope.MoveToOuter(outTargets);
        return (outImages, outTargets);
    }

    /// <summary>Applies the transform to a checked batch; may return its inputs unchanged.</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="targets">Hard (int64, N) or soft (float, N×K) targets.</param>
    /// <param name="generator">The CPU generator to draw parameters from.</param>
    protected abstract (Tensor Images, Tensor Targets) ApplyCore(Tensor images, Tensor targets, Generator generator);

    /// <inheritdoc />
    public abstract string Describe();

    /// <inheritdoc />
    public override string ToString() => Describe();
}
