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
    float[] IAffineBatchTransform.DrawMatrices(long[] shape, Generator generator)
    {
        using var applied = DrawApplied(shape[0], P, generator);
        var selected = applied.data<bool>().ToArray();
        var maps = AffineMath.Identity(shape[0]);
        for (int i = 0; i < selected.Length; i++)
            if (selected[i])
                maps[i * 6 + 4] = -1;
        return maps;
    }

    double? IAffineBatchTransform.Fill => null;

    /// <inheritdoc />
    public override string Describe() => $"RandomVerticalFlip(p={TransformGuard.Format(P)})";
}
