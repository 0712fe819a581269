using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// The base of the random affine transforms: subclasses draw per-sample forward maps; the base warps the whole batch with one
/// <c>affine_grid</c> + <c>grid_sample</c> and keeps the original of every sample that was not selected.
/// </summary>
public abstract class RandomAffineTransformBase : RandomBatchTransform, IAffineBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    /// <param name="fill">The value for areas that come from outside the image.</param>
    protected RandomAffineTransformBase(double p, double fill) : base(p) =>
        FillValue = TransformGuard.Finite(fill, nameof(fill));

    /// <summary>The value for areas that come from outside the image.</summary>
    public double FillValue { get; }

    double? IAffineBatchTransform.Fill => FillValue;

    /// <summary>Draws forward maps N×2×3 (float32, CPU, pixel units about the centre) for every sample.</summary>
    /// <param name="n">The batch size.</param>
    /// <param name="height">The image height.</param>
    /// <param name="width">The image width.</param>
    /// <param name="generator">The CPU generator.</param>
    protected abstract Tensor DrawForwardMatrices(long n, long height, long width, Generator generator);

    /// <inheritdoc />
    protected sealed override Tensor? DrawParameters(long[] shape, Generator generator) =>
        DrawForwardMatrices(shape[0], shape[2], shape[3], generator);

    /// <inheritdoc />
    protected sealed override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters) =>
        (Select(applied, TransformFunctional.AffineWarp(images, parameters!, FillValue), images), targets);

    /// <inheritdoc />
    Tensor IAffineBatchTransform.DrawMatrices(long[] shape, Generator generator)
    {
        using var scope = NewDisposeScope();
        var applied = DrawApplied(shape[0], P, generator);
        var matrices = DrawForwardMatrices(shape[0], shape[2], shape[3], generator);
        var identity = TransformFunctional.IdentityMatrix(shape[0]);
        return scope.MoveToOuter(where(applied.view(-1, 1, 1), matrices, identity));
    }

    /// <summary>Draws N uniform values in [min, max] (float32, CPU).</summary>
    internal static Tensor Uniform(long n, double min, double max, Generator generator)
    {
        using var scope = NewDisposeScope();
        var u = rand(n, generator: generator);
        return scope.MoveToOuter(u.mul_(max - min).add_(min));
    }
}
