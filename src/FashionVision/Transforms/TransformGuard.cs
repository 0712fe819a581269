using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>Argument checks shared by the transforms; each names the offending parameter.</summary>
internal static class TransformGuard
{
    public static double Probability(double p, string paramName)
    {
        if (double.IsNaN(p) || p < 0 || p > 1)
            throw new ArgumentOutOfRangeException(paramName, p, "A probability must lie in [0, 1].");
        return p;
    }

    public static double NonNegative(double value, string paramName)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(paramName, value, "The value must be finite and non-negative.");
        return value;
    }

    public static double Positive(double value, string paramName)
    {
        if (!double.IsFinite(value) || value <= 0)
            throw new ArgumentOutOfRangeException(paramName, value, "The value must be finite and positive.");
        return value;
    }

    public static double Finite(double value, string paramName)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(paramName, value, "The value must be a finite number.");
        return value;
    }

    public static int PositiveSize(int value, string paramName)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(paramName, value, "A size must be positive.");
        return value;
    }

    /// <summary>Checks a (min, max) range: finite, ordered, and inside [lower, upper].</summary>
    public static (double Min, double Max) Range((double Min, double Max) range, string paramName,
        double lower = double.NegativeInfinity, double upper = double.PositiveInfinity, bool positive = false)
    {
        if (!double.IsFinite(range.Min) || !double.IsFinite(range.Max))
            throw new ArgumentOutOfRangeException(paramName, range, "The range bounds must be finite numbers.");
        if (range.Min > range.Max)
            throw new ArgumentOutOfRangeException(paramName, range, "The range minimum exceeds its maximum.");
        if (range.Min < lower || range.Max > upper)
            throw new ArgumentOutOfRangeException(paramName, range,
                $"The range must lie within [{Format(lower)}, {Format(upper)}].");
        if (positive && range.Min <= 0)
            throw new ArgumentOutOfRangeException(paramName, range, "The range must be positive.");
        return range;
    }

    /// <summary>Checks a batch: float images N×C×H×W and hard (int64 N) or soft (float N×K) targets for the same N.</summary>
    public static void Batch(Tensor images, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(targets);
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be a 4-D tensor N×C×H×W; got shape [{string.Join(", ", images.shape)}].", nameof(images));
        if (!is_floating_point(images.dtype))
            throw new ArgumentException($"Images must have a floating-point dtype; got {images.dtype}.", nameof(images));
        long n = images.shape[0];
        bool hard = targets.dim() == 1 && targets.dtype == ScalarType.Int64;
        bool soft = targets.dim() == 2 && is_floating_point(targets.dtype);
        if (!hard && !soft)
            throw new ArgumentException(
                $"Targets must be class indices (int64, N) or soft targets (float, N×K); got {targets.dtype} of shape [{string.Join(", ", targets.shape)}].",
                nameof(targets));
        if (targets.shape[0] != n)
            throw new ArgumentException($"Targets hold {targets.shape[0]} samples but images hold {n}.", nameof(targets));
        if (targets.device_type != images.device_type || targets.device_index != images.device_index)
            throw new ArgumentException($"Targets are on {targets.device} but images are on {images.device}.", nameof(targets));
    }

    /// <summary>Formats a number for <c>Describe()</c> strings: invariant culture, shortest round-trip form.</summary>
    public static string Format(double value) => value.ToString("G", CultureInfo.InvariantCulture);

    public static string Format((double Min, double Max) range) => $"({Format(range.Min)}, {Format(range.Max)})";
}
