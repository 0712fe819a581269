using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// A random affine map per sample about the image centre: rotation, translation, zoom and shear, each drawn uniformly, applied to
/// the whole batch with one sampling grid.
/// </summary>
public sealed class RandomAffine : RandomAffineTransformBase
{
    /// <summary>Creates the transform.</summary>
    /// <param name="degrees">The largest rotation in degrees (angles are drawn from [−degrees, degrees]).</param>
    /// <param name="translate">The largest shift as a fraction of the width and height, in [0, 1] (e.g. 0.1 = ±10%).</param>
    /// <param name="scale">The zoom range (min, max), positive; null for no zoom.</param>
    /// <param name="shear">The largest shear along x in degrees, in [0, 90); shears are drawn from [−shear, shear].</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    /// <param name="fill">The value for areas that come from outside the image.</param>
    public RandomAffine(double degrees = 0, double translate = 0, (double Min, double Max)? scale = null, double shear = 0,
        double p = 0.5, double fill = 0) : base(p, fill)
    {
        Degrees = TransformGuard.NonNegative(degrees, nameof(degrees));
        Translate = TransformGuard.NonNegative(translate, nameof(translate));
        if (Translate > 1)
            throw new ArgumentOutOfRangeException(nameof(translate), translate, "The translation fraction must lie in [0, 1].");
        Scale = scale is { } s ? TransformGuard.Range(s, nameof(scale), positive: true) : (1, 1);
        Shear = TransformGuard.NonNegative(shear, nameof(shear));
        if (Shear >= 90)
            throw new ArgumentOutOfRangeException(nameof(shear), shear, "The shear must be below 90 degrees.");
    }

    /// <summary>The largest rotation in degrees.</summary>
    public double Degrees { get; }

    /// <summary>The largest shift as a fraction of the image size.</summary>
    public double Translate { get; }

    /// <summary>The zoom range.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>The largest shear in degrees.</summary>
    public double Shear { get; }

    /// <inheritdoc />
    public override bool IsIdentity =>
        base.IsIdentity || (Degrees == 0 && Translate == 0 && Scale == (1, 1) && Shear == 0);

    /// <inheritdoc />
    protected override float[] DrawForwardMatrices(long n, long height, long width, Generator generator)
    {
        // One draw of N×5 uniforms: angle, shift x, shift y, zoom, shear.
        var u = Uniform(n, 5, generator);
        var maps = new float[n * 6];
        for (int i = 0; i < n; i++)
        {
            int k = i * 5;
            AffineMath.Forward(maps.AsSpan(i * 6, 6),
                angleDegrees: (u[k] * 2 - 1) * Degrees,
                translateX: (u[k + 1] * 2 - 1) * Translate * width,
                translateY: (u[k + 2] * 2 - 1) * Translate * height,
                scale: Scale.Min + u[k + 3] * (Scale.Max - Scale.Min),
                shearXDegrees: (u[k + 4] * 2 - 1) * Shear,
                shearYDegrees: 0);
        }
        return maps;
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"RandomAffine(degrees={TransformGuard.Format(Degrees)}, translate={TransformGuard.Format(Translate)}, " +
        $"scale={TransformGuard.Format(Scale)}, shear={TransformGuard.Format(Shear)}, p={TransformGuard.Format(P)}" +
        (FillValue != 0 ? $", fill={TransformGuard.Format(FillValue)})" : ")");
}
