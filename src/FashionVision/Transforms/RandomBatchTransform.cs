using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// A transform applied to each sample with probability <see cref="P"/>, with per-sample parameters.
/// </summary>
/// <remarks>
/// The work is split in two, as in torchvision v2: <see cref="DrawParameters"/> draws every random number for the whole batch
/// at once from the CPU generator (so a seed gives the same batch on any device), then <see cref="Transform"/> applies them
/// as batched tensor operations on the batch's device. The per-sample decision is always drawn, and drawn first, so the
/// number of values taken from the generator does not depend on the data.
/// </remarks>
public abstract class RandomBatchTransform : BatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="p">The probability that a sample is transformed, in [0, 1].</param>
    protected RandomBatchTransform(double p) => P = TransformGuard.Probability(p, nameof(p));

    /// <summary>The probability that each sample is transformed.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override bool IsIdentity => P == 0;

    /// <inheritdoc />
    protected sealed override (Tensor Images, Tensor Targets) ApplyCore(Tensor images, Tensor targets, Generator generator)
    {
        long n = images.shape[0];
        var applied = DrawApplied(n, P, generator);
        var parameters = DrawParameters(images.shape, generator);
        var device = images.device;
        if (device.type != DeviceType.CPU)
        {
            applied = applied.to(device);
            parameters = parameters?.to(device);
        }
        return Transform(images, targets, applied, parameters);
    }

    /// <summary>Draws which samples are transformed: a boolean N tensor on the CPU, true with probability <paramref name="p"/>.</summary>
    internal static Tensor DrawApplied(long n, double p, Generator generator)
    {
        // Uniform values lie in [0, 1): p = 1 selects every sample and p = 0 none, and N values are consumed either way.
        using var u = rand(n, generator: generator);
        return u.lt(p);
    }

    /// <summary>Draws the per-sample parameters for a batch of the given shape on the CPU (float32, first dimension N), or null when the op needs none.</summary>
    /// <param name="shape">The images' shape N×C×H×W.</param>
    /// <param name="generator">The CPU generator.</param>
    protected abstract Tensor? DrawParameters(long[] shape, Generator generator);

    /// <summary>Applies the drawn parameters to the batch on its device.</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="targets">Hard or soft targets.</param>
    /// <param name="applied">Boolean N on the images' device: the samples to transform.</param>
    /// <param name="parameters">What <see cref="DrawParameters"/> returned, on the images' device.</param>
    protected abstract (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters);

    /// <summary>Keeps the transformed sample where <paramref name="applied"/> is true and the original elsewhere.</summary>
    protected static Tensor Select(Tensor applied, Tensor transformed, Tensor original) =>
        where(applied.view(-1, 1, 1, 1), transformed, original);
}
