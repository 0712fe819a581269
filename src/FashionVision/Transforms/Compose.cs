using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Runs transforms in order. Consecutive affine transforms (flips, <see cref="RandomRotation"/>, <see cref="RandomAffine"/>),
/// and an <see cref="ElasticDistortion"/> right after them, are fused: their per-sample maps are combined into one sampling grid
/// and the batch is resampled once, which is faster and blurs less than resampling after each. The random draws are the same as
/// unfused; the results differ only by that saved interpolation (and by content that a separate step would have cut off at the
/// border and a later step would have brought back).
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
            int end = FuseAffine ? AffineRunEnd(i) : i;
            var elastic = end > i && end < _transforms.Length && _transforms[end] is ElasticDistortion { IsIdentity: false } e &&
                          (FillOf(i, end) is not { } fill || fill == e.Fill)
                ? e
                : null;
            if (end - i > 1 || (end - i == 1 && elastic is not null))
            {
                current = (ApplyFused(i, end, elastic, current.images, generator), current.targets);
                i = elastic is null ? end : end + 1;
            }
            else
            {
                current = _transforms[i].Apply(current.images, current.targets, generator);
                i++;
            }
        }
        return current;
    }

    /// <summary>
    /// The end (exclusive) of the run of fusible affine transforms that starts at <paramref name="start"/>: consecutive, not
    /// disabled, with one fill value. Equals <paramref name="start"/> when the transform there is not one.
    /// </summary>
    private int AffineRunEnd(int start)
    {
        double? fill = null;
        int end = start;
        for (; end < _transforms.Length; end++)
        {
            if (_transforms[end] is not IAffineBatchTransform affine || _transforms[end] is BatchTransform { IsIdentity: true })
                break;
            if (affine.Fill is { } f)
            {
                if (fill is { } g && g != f)
                    break;
                fill = f;
            }
        }
        return end;
    }

    /// <summary>The common fill of the affine run [start, end), or null when none of them reads outside the image.</summary>
    private double? FillOf(int start, int end)
    {
        double? fill = null;
        for (int i = start; i < end; i++)
            fill = ((IAffineBatchTransform)_transforms[i]).Fill ?? fill;
        return fill;
    }

    /// <summary>
    /// Applies the affine run [start, end) and then, if given, the elastic distortion, with one grid: output pixel p reads the
    /// input at A(p + d(p)), where A is the product of the run's maps and d the elastic displacement.
    /// </summary>
    private Tensor ApplyFused(int start, int end, ElasticDistortion? elastic, Tensor images, Generator generator)
    {
        long[] shape = images.shape;
        long n = shape[0], h = shape[2], w = shape[3];
        var total = ((IAffineBatchTransform)_transforms[start]).DrawMatrices(shape, generator);
        for (int i = start + 1; i < end; i++)
            total = AffineMath.Compose(total, ((IAffineBatchTransform)_transforms[i]).DrawMatrices(shape, generator));
        var changed = tensor(AffineMath.NonIdentity(total)).to(images.device);
        var theta = tensor(AffineMath.SamplingTheta(total, h, w), new[] { n, 2, 3 }).to(images.dtype, images.device);
        var planes = TransformFunctional.AffineGridPlanes(theta, h, w);
        double fill = FillOf(start, end) ?? elastic?.Fill ?? 0;
        if (elastic is not null)
        {
            var (applied, noise) = elastic.Draw(shape, generator);
            applied = applied.to(images.device);
            var displacement = elastic.Displacement(noise.to(images.device).to(images.dtype), h, w);
            displacement.mul_(applied.to(images.dtype).view(-1, 1, 1, 1));
            // The displacement in normalized units, mapped through each sample's linear part of theta.
            var dx = displacement[.., 0] * (2.0 / w);
            var dy = displacement[.., 1] * (2.0 / h);
            var t = theta.view(n, 6, 1, 1);
            planes = planes + stack(new[] { t[.., 0] * dx + t[.., 1] * dy, t[.., 3] * dx + t[.., 4] * dy }, 1);
            changed = changed.logical_or(applied);
        }
        var warped = TransformFunctional.Warp(images, planes.permute(0, 2, 3, 1), fill);
        return where(changed.view(-1, 1, 1, 1), warped, images);
    }

    /// <inheritdoc />
    public override string Describe() => $"Compose({string.Join(", ", _transforms.Select(t => t.Describe()))})";
}
