using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

public static partial class TransformFunctional
{
    /// <summary>Multiplies each sample by its brightness factor and clamps to [0, 1].</summary>
    /// <param name="images">Float images N×C×H×W in [0, 1].</param>
    /// <param name="factor">Factors N (1 leaves a sample unchanged, 0 makes it black).</param>
    public static Tensor AdjustBrightness(Tensor images, Tensor factor) =>
        (images * factor.to(images.dtype).view(-1, 1, 1, 1)).clamp_(0, 1);

    /// <summary>Scales each sample's deviation from its own mean intensity by its contrast factor and clamps to [0, 1].</summary>
    /// <param name="images">Float images N×C×H×W in [0, 1].</param>
    /// <param name="factor">Factors N (1 leaves a sample unchanged, 0 makes it uniform grey at its mean).</param>
    public static Tensor AdjustContrast(Tensor images, Tensor factor)
    {
        using var scope = NewDisposeScope();
        var mean = images.mean(new long[] { 1, 2, 3 }, keepdim: true);
        var result = (images - mean).mul_(factor.to(images.dtype).view(-1, 1, 1, 1)).add_(mean).clamp_(0, 1);
        return scope.MoveToOuter(result);
    }

    /// <summary>
    /// Sharpens (factor &gt; 1) or softens (factor &lt; 1) each sample by blending with its 3×3 smoothed copy (PIL's kernel);
    /// border pixels are kept, as in PIL and torchvision.
    /// </summary>
    /// <param name="images">Float images N×C×H×W in [0, 1].</param>
    /// <param name="factor">Factors N (1 leaves a sample unchanged).</param>
    public static Tensor AdjustSharpness(Tensor images, Tensor factor)
    {
        using var scope = NewDisposeScope();
        long c = images.shape[1], h = images.shape[2], w = images.shape[3];
        if (h < 3 || w < 3)
            return scope.MoveToOuter(images.clone());
        var kernel = tensor(new float[] { 1, 1, 1, 1, 5, 1, 1, 1, 1 }, device: images.device).to(images.dtype).div_(13)
            .view(1, 1, 3, 3).expand(c, 1, 3, 3);
        var smoothed = nn.functional.conv2d(images, kernel, groups: c);
        var interior = images[.., .., 1..^1, 1..^1];
        var f = factor.to(images.dtype).view(-1, 1, 1, 1);
        var blended = (interior - smoothed).mul_(f).add_(smoothed).clamp_(0, 1);
        var result = images.clone();
        result[.., .., 1..^1, 1..^1] = blended;
        return scope.MoveToOuter(result);
    }

    /// <summary>Inverts every value at or above each sample's threshold (<c>x → 1 − x</c>).</summary>
    /// <param name="images">Float images N×C×H×W in [0, 1].</param>
    /// <param name="threshold">Thresholds N in [0, 1] (1 or more changes nothing).</param>
    public static Tensor Solarize(Tensor images, Tensor threshold)
    {
        using var scope = NewDisposeScope();
        var t = threshold.to(images.dtype).view(-1, 1, 1, 1);
        return scope.MoveToOuter(where(images.ge(t), 1 - images, images));
    }

    /// <summary>Keeps the top <paramref name="bits"/> bits of each 8-bit intensity, per sample.</summary>
    /// <param name="images">Float images N×C×H×W in [0, 1].</param>
    /// <param name="bits">Bits N, 1 to 8 (8 changes nothing).</param>
    public static Tensor Posterize(Tensor images, Tensor bits)
    {
        using var scope = NewDisposeScope();
        var step = (8 - bits.to(images.dtype)).exp2().view(-1, 1, 1, 1);
        var result = (images * 255).round_().div_(step).floor_().mul_(step).div_(255);
        return scope.MoveToOuter(result);
    }

    /// <summary>Stretches each sample's channels to span [0, 1]; constant channels are left unchanged.</summary>
    /// <param name="images">Float images N×C×H×W in [0, 1].</param>
    public static Tensor AutoContrast(Tensor images)
    {
        using var scope = NewDisposeScope();
        var flat = images.flatten(2);
        var low = flat.amin(new long[] { 2 }, keepdim: true).unsqueeze(-1);
        var high = flat.amax(new long[] { 2 }, keepdim: true).unsqueeze(-1);
        var range = high - low;
        var constant = range.le(0);
        var stretched = (images - low) / where(constant, ones_like(range), range);
        return scope.MoveToOuter(where(constant, images, stretched.clamp_(0, 1)));
    }

    /// <summary>Adds scaled noise and optionally clamps to [0, 1].</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="noise">Standard normal noise of the images' shape.</param>
    /// <param name="std">The noise standard deviation, per sample (N).</param>
    /// <param name="clip">Clamp the result to [0, 1].</param>
    public static Tensor AddGaussianNoise(Tensor images, Tensor noise, Tensor std, bool clip = true)
    {
        using var scope = NewDisposeScope();
        var result = images + noise.to(images.dtype) * std.to(images.dtype).view(-1, 1, 1, 1);
        if (clip)
            result.clamp_(0, 1);
        return scope.MoveToOuter(result);
    }

    /// <summary>Standardises each channel: <c>(x − mean[c]) / std[c]</c>.</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="mean">Per-channel means (C values, or 1 value for every channel).</param>
    /// <param name="std">Per-channel standard deviations (positive).</param>
    public static Tensor Normalize(Tensor images, IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        using var scope = NewDisposeScope();
        var m = tensor(mean.ToArray(), device: images.device).to(images.dtype).view(1, -1, 1, 1);
        var s = tensor(std.ToArray(), device: images.device).to(images.dtype).view(1, -1, 1, 1);
        return scope.MoveToOuter((images - m).div_(s));
    }
}
