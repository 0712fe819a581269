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
    protected override float[] DrawForwardMatrices(long n, long height, long width, Generator generator)
    {
        var u = Uniform(n, 1, generator);
        var maps = new float[n * 6];
        for (int i = 0; i < n; i++)
            AffineMath.Forward(maps.AsSpan(i * 6, 6), (u[i] * 2 - 1) * Degrees, 0, 0, 1, 0, 0);
        return maps;
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"RandomRotation(degrees={TransformGuard.Format(Degrees)}, p={TransformGuard.Format(P)}" +
        (FillValue != 0 ? $", fill={TransformGuard.Format(FillValue)})" : ")");
}
