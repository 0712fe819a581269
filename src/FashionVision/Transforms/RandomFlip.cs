using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Mirrors each sample along one axis with probability <see cref="RandomBatchTransform.P"/>; the base of
/// <see cref="RandomHorizontalFlip"/> and <see cref="RandomVerticalFlip"/>. Inside a <see cref="Compose"/> a flip fuses with
/// neighbouring affine transforms into one resampling.
/// </summary>
public abstract class RandomFlip : RandomBatchTransform, IAffineBatchTransform
{
    private readonly Func<Tensor, Tensor> _flip;
    private readonly int _mirroredMapEntry;

    /// <summary>Creates the transform.</summary>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    /// <param name="flip">The batched kernel that mirrors every image.</param>
    /// <param name="mirroredMapEntry">The entry of the 2×3 affine map (row-major) that becomes −1: 0 for x, 4 for y.</param>
    protected RandomFlip(double p, Func<Tensor, Tensor> flip, int mirroredMapEntry) : base(p)
    {
        _flip = flip;
        _mirroredMapEntry = mirroredMapEntry;
    }

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator) => null;

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters) =>
        (Select(applied, _flip(images), images), targets);

    /// <inheritdoc />
    float[] IAffineBatchTransform.DrawMatrices(long[] shape, Generator generator)
    {
        using var applied = DrawApplied(shape[0], P, generator);
        var selected = applied.data<bool>().ToArray();
        var maps = AffineMath.Identity(shape[0]);
        for (int i = 0; i < selected.Length; i++)
            if (selected[i])
                maps[i * 6 + _mirroredMapEntry] = -1;
        return maps;
    }

    double? IAffineBatchTransform.Fill => null;

    /// <inheritdoc />
    public override string Describe() => $"{GetType().Name}(p={TransformGuard.Format(P)})";
}
