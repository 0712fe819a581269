using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>Per-channel mean and standard deviation of pixel intensities in [0, 1], as Normalize uses them.</summary>
/// <param name="Mean">The mean of each channel.</param>
/// <param name="Std">The standard deviation of each channel.</param>
public sealed record ChannelStatistics(float[] Mean, float[] Std)
{
    /// <summary>
    /// Computes the population statistics of uint8 (scaled by 1/255) or float images N×C×H×W. Accumulates in float64 over
    /// chunks of 4,096 images, so a 60,000-image set needs no large temporary.
    /// </summary>
    public static ChannelStatistics Compute(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be N×C×H×W; got [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.shape[0] == 0 || images.shape[2] * images.shape[3] == 0)
            throw new ArgumentException("Statistics of an empty set of images are undefined.", nameof(images));
        using var scope = NewDisposeScope();
        long n = images.shape[0], channels = images.shape[1];
        double scale = images.dtype == ScalarType.Byte ? 1.0 / 255 : 1.0;
        var sum = zeros(channels, ScalarType.Float64);
        var sumSquares = zeros(channels, ScalarType.Float64);
        const long chunk = 4096;
        for (long start = 0; start < n; start += chunk)
        {
            using var inner = NewDisposeScope();
            var part = images.narrow(0, start, Math.Min(chunk, n - start)).to(ScalarType.Float64).cpu().mul_(scale);
            sum.add_(part.sum(new long[] { 0, 2, 3 }));
            sumSquares.add_(part.square().sum(new long[] { 0, 2, 3 }));
        }
        double count = (double)n * images.shape[2] * images.shape[3];
        var mean = sum / count;
        var variance = (sumSquares / count - mean.square()).clamp_min(0);
        return new ChannelStatistics(
            mean.to(ScalarType.Float32).data<float>().ToArray(),
            variance.sqrt().to(ScalarType.Float32).data<float>().ToArray());
    }

    /// <summary>The number of channels.</summary>
    public int Channels => Mean.Length;

    /// <inheritdoc />
    public override string ToString() =>
        $"mean=[{string.Join(", ", Mean.Select(m => m.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)))}], " +
        $"std=[{string.Join(", ", Std.Select(s => s.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)))}]";
}
