using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Runs transforms in order. Consecutive affine transforms (flips, <see cref="RandomRotation"/>, <see cref="RandomAffine"/>) are
/// fused: their per-sample maps are multiplied and the batch is resampled once, which is faster and blurs less than resampling
/// after each; the random draws are the same as unfused.
/// </summary>
public sealed class Compose : BatchTransform
{
    private readonly IBatchTransform[] _transforms;

    /// <summary>Creates the chain.</summary>
    /// <param name="transforms">The transforms, applied first to last; none may be null.</param>
    public Compose(params IBatchTransform[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        if (transforms.Any(t => t is null))
            throw new ArgumentException("The chain contains a null transform.", nameof(transforms));
        _transforms = transforms.ToArray();
    }

    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<IBatchTransform> Transforms => _transforms;

    /// <summary>Whether consecutive affine transforms are fused into one resampling (default true).</summary>
    public bool FuseAffine { get; init; } = true;

    /// <inheritdoc />
    public override bool IsIdentity => _transforms.All(t => t is BatchTransform { IsIdentity: true });

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) ApplyCore(Tensor images, Tensor targets, Generator generator)
    {
        var current = (images, targets);
        for (int i = 0; i < _transforms.Length;)
        {
            int end = FuseAffine ? FusibleRunEnd(i) : i + 1;
            current = end - i > 1
                ? (ApplyFused(i, end, current.images, generator), current.targets)
                : _transforms[i].Apply(current.images, current.targets, generator);
            i = end;
        }
        return current;
    }

    /// <summary>The end (exclusive) of the run of fusible affine transforms that starts at <paramref name="start"/>.</summary>
    private int FusibleRunEnd(int start)
    {
        double? fill = null;
        int end = start;
        for (; end < _transforms.Length; end++)
        {
            if (_transforms[end] is not IAffineBatchTransform affine)
                break;
            if (_transforms[end] is BatchTransform { IsIdentity: true })
                break;
            if (affine.Fill is { } f)
            {
                if (fill is { } g && g != f)
                    break;
                fill = f;
            }
        }
        return Math.Max(end, start + 1);
    }

    private Tensor ApplyFused(int start, int end, Tensor images, Generator generator)
    {
        long[] shape = images.shape;
        Tensor? total = null;
        double fill = 0;
        for (int i = start; i < end; i++)
        {
            var affine = (IAffineBatchTransform)_transforms[i];
            fill = affine.Fill ?? fill;
            var matrices = affine.DrawMatrices(shape, generator);
            total = total is null ? matrices : TransformFunctional.ComposeMatrices(total, matrices);
        }
        var forward = total!.to(images.device);
        var identity = TransformFunctional.IdentityMatrix(shape[0], forward.dtype, forward.device);
        var changed = forward.ne(identity).flatten(1).any(1);
        var warped = TransformFunctional.AffineWarp(images, forward, fill);
        return where(changed.view(-1, 1, 1, 1), warped, images);
    }

    /// <inheritdoc />
    public override string Describe() => $"Compose({string.Join(", ", _transforms.Select(t => t.Describe()))})";
}
