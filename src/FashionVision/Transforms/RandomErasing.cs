using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Random erasing (Zhong et al., 2017): per selected sample, a rectangle whose area fraction lies in <see cref="Scale"/> and whose
/// aspect ratio (height / width) lies in <see cref="Ratio"/> is overwritten with a constant or with uniform noise. The masks of the
/// whole batch are built at once by broadcasting.
/// </summary>
/// <remarks>A sample for which no rectangle fits after ten tries is left unchanged, as in torchvision.</remarks>
public sealed class RandomErasing : RandomBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    /// <param name="scale">The range of the erased area as a fraction of the image, within (0, 1]; default (0.02, 0.33).</param>
    /// <param name="ratio">The range of the aspect ratio height / width, positive; default (0.3, 3.3).</param>
    /// <param name="value">The constant written into the rectangle (ignored when <paramref name="random"/> is set).</param>
    /// <param name="random">Fill with noise uniform in [<paramref name="randomMin"/>, <paramref name="randomMax"/>) instead of a constant.</param>
    /// <param name="randomMin">The lower bound of the noise.</param>
    /// <param name="randomMax">The upper bound of the noise.</param>
    public RandomErasing(double p = 0.5, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null,
        double value = 0, bool random = false, double randomMin = 0, double randomMax = 1) : base(p)
    {
        Scale = TransformGuard.Range(scale ?? (0.02, 0.33), nameof(scale), 0, 1, positive: true);
        Ratio = TransformGuard.Range(ratio ?? (0.3, 3.3), nameof(ratio), positive: true);
        Value = TransformGuard.Finite(value, nameof(value));
        IsRandom = random;
        RandomRange = TransformGuard.Range((randomMin, randomMax), nameof(randomMin));
    }

    /// <summary>The range of the erased area as a fraction of the image.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>The range of the aspect ratio, height / width.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <summary>The constant fill.</summary>
    public double Value { get; }

    /// <summary>Whether the rectangle is filled with uniform noise.</summary>
    public bool IsRandom { get; }

    /// <summary>The range of the noise fill.</summary>
    public (double Min, double Max) RandomRange { get; }

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator)
    {
        using var scope = NewDisposeScope();
        long n = shape[0], h = shape[2], w = shape[3];
        var (boxes, _) = TransformFunctional.SampleBoxes(n, h, w, Scale, Ratio, generator);
        // Samples with no box that fits got an empty box; the boxes travel as row/column indicators N×(H+W).
        var result = tensor(TransformFunctional.BoxIndicators(boxes.data<float>().ToArray(), h, w), new[] { n, h + w });
        if (IsRandom)
        {
            // The noise rides along after the indicators: N × (H + W + C·H·W).
            var noise = rand(new[] { n, shape[1] * h * w }, generator: generator)
                .mul_(RandomRange.Max - RandomRange.Min).add_(RandomRange.Min);
            result = cat(new[] { result, noise }, 1);
        }
        return scope.MoveToOuter(result);
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        long h = images.shape[2], w = images.shape[3];
        int split = (int)(h + w);
        var mask = TransformFunctional.MaskFromIndicators(parameters![.., ..split], applied, h, w);
        var erased = IsRandom
            ? where(mask, parameters[.., split..].view(images.shape).to(images.dtype), images)
            : images.masked_fill(mask, Value);
        return (erased, targets);
    }

    /// <inheritdoc />
    public override string Describe()
    {
        var fill = IsRandom ? $"value=random{TransformGuard.Format(RandomRange)}" : $"value={TransformGuard.Format(Value)}";
        return $"RandomErasing(p={TransformGuard.Format(P)}, scale={TransformGuard.Format(Scale)}, ratio={TransformGuard.Format(Ratio)}, {fill})";
    }
}
