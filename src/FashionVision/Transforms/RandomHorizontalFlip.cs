using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>Mirrors each sample left to right with probability <see cref="RandomBatchTransform.P"/>.</summary>
/// <remarks>Suits Fashion-MNIST (garments are left-right symmetric in meaning); do not use it on digits.</remarks>
public sealed class RandomHorizontalFlip : RandomBatchTransform, IAffineBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    public RandomHorizontalFlip(double p = 0.5) : base(p)
    {
    }

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator) => null;

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters) =>
        (Select(applied, TransformFunctional.HorizontalFlip(images), images), targets);

    /// <inheritdoc />
    float[] IAffineBatchTransform.DrawMatrices(long[] shape, Generator generator)
    {
        using var applied = DrawApplied(shape[0], P, generator);
        var selected = applied.data<bool>().ToArray();
        var maps = AffineMath.Identity(shape[0]);
        for (int i = 0; i < selected.Length; i++)
            if (selected[i])
                maps[i * 6 + 0] = -1;
        return maps;
    }

    double? IAffineBatchTransform.Fill => null;

    /// <inheritdoc />
    public override string Describe() => $"RandomHorizontalFlip(p={TransformGuard.Format(P)})";
}
