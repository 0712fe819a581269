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

    /// <summary>Draws forward maps for every sample: N×2×3 row-major (six values per sample), pixel units about the centre.</summary>
    /// <param name="n">The batch size.</param>
    /// <param name="height">The image height.</param>
    /// <param name="width">The image width.</param>
    /// <param name="generator">The CPU generator.</param>
    protected abstract float[] DrawForwardMatrices(long n, long height, long width, Generator generator);

    /// <inheritdoc />
    protected sealed override Tensor? DrawParameters(long[] shape, Generator generator)
    {
        var forward = DrawForwardMatrices(shape[0], shape[2], shape[3], generator);
        return tensor(AffineMath.SamplingTheta(forward, shape[2], shape[3]), new[] { shape[0], 2, 3 });
    }

    /// <inheritdoc />
    protected sealed override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        var grid = TransformFunctional.AffineGrid(parameters!.to(images.dtype), images.shape[2], images.shape[3]);
        return (Select(applied, TransformFunctional.Warp(images, grid, FillValue), images), targets);
    }

    /// <inheritdoc />
    float[] IAffineBatchTransform.DrawMatrices(long[] shape, Generator generator)
    {
        using var applied = DrawApplied(shape[0], P, generator);
        var selected = applied.data<bool>().ToArray();
        var maps = DrawForwardMatrices(shape[0], shape[2], shape[3], generator);
        var identity = AffineMath.Identity(1);
        for (int i = 0; i < selected.Length; i++)
            if (!selected[i])
                identity.CopyTo(maps, i * 6);
        return maps;
    }

    /// <summary>Draws N×<paramref name="columns"/> uniform values in [0, 1) as one tensor draw, returned as a managed array.</summary>
    internal static float[] Uniform(long n, int columns, Generator generator)
    {
        using var u = rand(new[] { n, columns }, generator: generator);
        return u.data<float>().ToArray();
    }
}
