using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

public static partial class TransformFunctional
{
    /// <summary>Turns hard targets (int64 N) into one-hot soft targets N×K; soft targets are checked and returned as they are.</summary>
    /// <param name="targets">Class indices or soft targets.</param>
    /// <param name="numClasses">The class count K.</param>
    /// <param name="dtype">The float dtype of the result.</param>
    public static Tensor ToSoftTargets(Tensor targets, int numClasses, ScalarType dtype = ScalarType.Float32)
    {
        if (targets.dim() == 2)
        {
            if (targets.shape[1] != numClasses)
                throw new ArgumentException($"Soft targets have {targets.shape[1]} classes, expected {numClasses}.", nameof(targets));
            return targets.alias();
        }
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(nn.functional.one_hot(targets, numClasses).to(dtype));
    }

    /// <summary>
    /// Mixes each sample's targets with those of its partner (the previous sample in the batch, as with <c>roll(1)</c>):
    /// <c>λ·y + (1 − λ)·y_partner</c>. Rows of the result sum to 1 when the inputs' rows do.
    /// </summary>
    /// <param name="targets">Hard (int64 N) or soft (float N×K) targets.</param>
    /// <param name="lambda">The weight of each sample's own target, N.</param>
    /// <param name="numClasses">The class count K.</param>
    public static Tensor MixTargets(Tensor targets, Tensor lambda, int numClasses)
    {
        using var scope = NewDisposeScope();
        var soft = ToSoftTargets(targets, numClasses, is_floating_point(lambda.dtype) ? lambda.dtype : ScalarType.Float32);
        var l = lambda.to(soft.dtype).view(-1, 1);
        var mixed = soft * l + soft.roll(1, 0) * (1 - l);
        return scope.MoveToOuter(mixed);
    }

    /// <summary>Blends each image with its partner (the previous one in the batch): <c>λ·x + (1 − λ)·x_partner</c>.</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="lambda">Weights N.</param>
    public static Tensor MixImages(Tensor images, Tensor lambda)
    {
        using var scope = NewDisposeScope();
        var l = lambda.to(images.dtype).view(-1, 1, 1, 1);
        return scope.MoveToOuter(images.roll(1, 0).lerp(images, l));
    }

    /// <summary>
    /// CutMix boxes (Yun et al., 2019): a box with sides <c>H·√(1 − λ)</c> and <c>W·√(1 − λ)</c> centred on the drawn point,
    /// clipped to the image. Because of clipping the pasted area can be smaller than 1 − λ; use the box's real area for the targets.
    /// </summary>
    /// <param name="lambda">Drawn λ values N in [0, 1].</param>
    /// <param name="centreY">Box centres N as fractions of the height.</param>
    /// <param name="centreX">Box centres N as fractions of the width.</param>
    /// <param name="height">The image height.</param>
    /// <param name="width">The image width.</param>
    /// <returns>Boxes N×4 (top, left, height, width) in whole pixels.</returns>
    public static Tensor CutMixBoxes(Tensor lambda, Tensor centreY, Tensor centreX, long height, long width)
    {
        using var scope = NewDisposeScope();
        var cut = (1 - lambda).clamp(0, 1).sqrt();
        var halfH = (cut * height).floor_().div_(2);
        var halfW = (cut * width).floor_().div_(2);
        var cy = (centreY * height).floor_();
        var cx = (centreX * width).floor_();
        var top = (cy - halfH).floor_().clamp_(0, height);
        var bottom = (cy + halfH).floor_().clamp_(0, height);
        var left = (cx - halfW).floor_().clamp_(0, width);
        var right = (cx + halfW).floor_().clamp_(0, width);
        return scope.MoveToOuter(stack(new[] { top, left, bottom - top, right - left }, 1));
    }

    /// <summary>Draws N values from Beta(α, α) on the CPU generator (as a ratio of two Gamma draws).</summary>
    /// <param name="n">The number of values.</param>
    /// <param name="alpha">The concentration α &gt; 0.</param>
    /// <param name="generator">The CPU generator.</param>
    public static Tensor SampleBeta(long n, double alpha, Generator generator)
    {
        TransformGuard.Positive(alpha, nameof(alpha));
        using var scope = NewDisposeScope();
        var concentration = full(new[] { 2, n }, alpha, ScalarType.Float64);
        var gamma = _standard_gamma(concentration, generator);
        var total = gamma[0] + gamma[1];
        // A tiny α can underflow both draws to 0; the distribution is symmetric, so use its mean, 0.5.
        var beta = where(total.gt(0), gamma[0] / total, full_like(total, 0.5));
        return scope.MoveToOuter(beta.to(ScalarType.Float32));
    }
}
