using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>Per-channel mean and standard deviation of pixel intensities in [0, 1], as Normalize uses them.</summary>
/// <param name="Mean">The mean of each channel.</param>
/// <param name="Std">The standard deviation of each channel.</param>
public sealed record ChannelStatistics(float[] Mean, float[] Std)
{
    /// <summary>Computes the statistics of uint8 (scaled by 1/255) or float images N×C×H×W, in float64 for accuracy.</summary>
    public static ChannelStatistics Compute(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be N×C×H×W; got [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.shape[0] == 0)
            throw new ArgumentException("Statistics of an empty set of images are undefined.", nameof(images));
        using var scope = NewDisposeScope();
        var values = images.to_type(ScalarType.Float64);
        if (images.dtype == ScalarType.Byte)
            values = values.div(255.0);
        var perChannel = values.transpose(0, 1).reshape(images.shape[1], -1);
        var mean = perChannel.mean(new long[] { 1 }).to_type(ScalarType.Float32).cpu().data<float>().ToArray();
        var std = perChannel.std(1, unbiased: false).to_type(ScalarType.Float32).cpu().data<float>().ToArray();
        return new ChannelStatistics(mean, std);
    }

    /// <summary>The number of channels.</summary>
    public int Channels => Mean.Length;

    /// <inheritdoc />
    public override string ToString() =>
        $"mean=[{string.Join(", ", Mean.Select(m => m.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)))}], " +
        $"std=[{string.Join(", ", Std.Select(s => s.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)))}]";
}
