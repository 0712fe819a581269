using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>Rotates each sample about its centre by an angle drawn uniformly from [−degrees, degrees] (bilinear).</summary>
public sealed class RandomRotation : RandomAffineTransformBase
{
    /// <summary>Creates the transform.</summary>
    /// <param name="degrees">The largest rotation in degrees (finite, non-negative).</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    /// <param name="fill">The value for the corners that come from outside the image.</param>
    public RandomRotation(double degrees, double p = 0.5, double fill = 0) : base(p, fill) =>
        Degrees = TransformGuard.NonNegative(degrees, nameof(degrees));

    /// <summary>The largest rotation in degrees.</summary>
    public double Degrees { get; }

    /// <inheritdoc />
    public override bool IsIdentity => base.IsIdentity || Degrees == 0;

    /// <inheritdoc />
    protected override Tensor DrawForwardMatrices(long n, long height, long width, Generator generator)
    {
        using var scope = NewDisposeScope();
        var angle = Uniform(n, -Degrees, Degrees, generator);
        var zero = zeros(n);
        var matrices = TransformFunctional.AffineMatrix(angle, zero, zero, ones(n), zero, zero);
        return scope.MoveToOuter(matrices);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"RandomRotation(degrees={TransformGuard.Format(Degrees)}, p={TransformGuard.Format(P)}" +
        (FillValue != 0 ? $", fill={TransformGuard.Format(FillValue)})" : ")");
}
