using FashionVision.Transforms;

namespace FashionVision.Tests.Transforms;

/// <summary>Small synthetic batches for the transform tests.</summary>
internal static class TransformTestData
{
    /// <summary>Random images in [0.1, 0.9] N×C×H×W (so any erasing, flipping or resampling is visible) and labels 0..9.</summary>
    public static (Tensor Images, Tensor Labels) Batch(long n = 16, long c = 1, long h = 28, long w = 28, int seed = 123)
    {
        var generator = new Generator((ulong)seed);
        var images = rand(new[] { n, c, h, w }, generator: generator).mul_(0.8).add_(0.1);
        var labels = arange(n, ScalarType.Int64).remainder(10);
        return (images, labels);
    }

    /// <summary>Images with a smooth asymmetric pattern (a blob off centre), so that geometric changes move real content.</summary>
    public static Tensor Pattern(long n = 8, long h = 28, long w = 28)
    {
        var ys = arange(h, ScalarType.Float32).view(1, 1, h, 1);
        var xs = arange(w, ScalarType.Float32).view(1, 1, 1, w);
        var shift = arange(n, ScalarType.Float32).view(n, 1, 1, 1);
        var blob = (-((ys - h * 0.35f - shift).square() + (xs - w * 0.6f).square()) / 30f).exp();
        return (blob * 0.8f + 0.1f).contiguous();
    }

    public static (Tensor Images, Tensor Targets) Run(IBatchTransform transform, Tensor images, Tensor targets, int seed = 7) =>
        transform.Apply(images, targets, new Generator((ulong)seed));

    /// <summary>Per sample: whether any value differs from the original by more than <paramref name="tolerance"/>.</summary>
    public static bool[] ChangedSamples(Tensor before, Tensor after, double tolerance = 1e-6)
    {
        var diff = (after - before).abs().flatten(1).amax(new long[] { 1 });
        return diff.gt(tolerance).data<bool>().ToArray();
    }

    /// <summary>Same shape and bit-identical values.</summary>
    public static bool IsSameAs(this Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    public static float MaxAbsDifference(Tensor a, Tensor b) => (a - b).abs().max().to(ScalarType.Float32).item<float>();
}
