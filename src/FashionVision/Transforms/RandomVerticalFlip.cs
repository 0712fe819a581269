using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>Mirrors each sample top to bottom with probability <see cref="RandomBatchTransform.P"/>.</summary>
public sealed class RandomVerticalFlip : RandomBatchTransform, IAffineBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    public RandomVerticalFlip(double p = 0.5) : base(p)
    {
    }

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator) => null;

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters) =>
        (Select(applied, TransformFunctional.VerticalFlip(images), images), targets);

    /// <inheritdoc />
    Tensor IAffineBatchTransform.DrawMatrices(long[] shape, Generator generator)
    {
        using var scope = NewDisposeScope();
        var applied = DrawApplied(shape[0], P, generator);
        var sign = where(applied, -1.0f, 1.0f);
        var one = ones_like(sign);
        var zero = zeros_like(sign);
        return scope.MoveToOuter(stack(new[] { one, zero, zero, zero, sign, zero }, 1).view(-1, 2, 3));
    }

    double? IAffineBatchTransform.Fill => null;

    /// <inheritdoc />
    public override string Describe() => $"RandomVerticalFlip(p={TransformGuard.Format(P)})";
}
