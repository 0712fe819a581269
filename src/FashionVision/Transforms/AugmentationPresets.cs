namespace FashionVision.Transforms;

/// <summary>
/// Named augmentation chains for 28×28 grayscale training batches in [0, 1] (what the CLI's <c>--augment</c> offers).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>none</c>: nothing.</item>
/// <item><c>basic</c>: horizontal flip and a ±2-pixel random crop.</item>
/// <item><c>standard</c>: flip, a mild random affine (±10°, ±10% shift, 0.9–1.1 zoom) and random erasing.</item>
/// <item><c>strong</c>: flip, a stronger affine with shear, elastic distortion, random erasing and CutMix (soft targets).</item>
/// <item><c>trivial</c>: flip, TrivialAugment and random erasing.</item>
/// </list>
/// Horizontal flips suit clothing, not digits: pass <c>flip: false</c> for MNIST.
/// Presets apply to images before <see cref="Normalize"/>; put Normalize after them.
/// </remarks>
public static class AugmentationPresets
{
    private static readonly string[] PresetNames = { "none", "basic", "standard", "strong", "trivial" };

    /// <summary>The preset names, mildest first.</summary>
    public static IReadOnlyList<string> Names => PresetNames;

    /// <summary>Builds a preset chain.</summary>
    /// <param name="name">One of <see cref="Names"/> (case-insensitive).</param>
    /// <param name="numClasses">The class count, used by CutMix in <c>strong</c>.</param>
    /// <param name="flip">Include horizontal flips (turn off for digits).</param>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid ones.</exception>
    public static Compose Get(string name, int numClasses = 10, bool flip = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        IBatchTransform[] Flip() => flip ? new IBatchTransform[] { new RandomHorizontalFlip(0.5) } : Array.Empty<IBatchTransform>();
        return name.Trim().ToLowerInvariant() switch
        {
            "none" => new Compose(),
            "basic" => new Compose(Flip().Append(new RandomCrop(padding: 2)).ToArray()),
            "standard" => new Compose(Flip().Concat(new IBatchTransform[]
            {
                new RandomAffine(degrees: 10, translate: 0.1, scale: (0.9, 1.1), p: 0.5),
                new RandomErasing(p: 0.5),
            }).ToArray()),
            "strong" => new Compose(Flip().Concat(new IBatchTransform[]
            {
                new RandomAffine(degrees: 15, translate: 0.1, scale: (0.85, 1.15), shear: 10, p: 0.7),
                new ElasticDistortion(alpha: 8, sigma: 3, p: 0.3),
                new RandomErasing(p: 0.5),
                new CutMix(numClasses, alpha: 1.0, p: 0.5),
            }).ToArray()),
            "trivial" => new Compose(Flip().Concat(new IBatchTransform[]
            {
                new TrivialAugment(),
                new RandomErasing(p: 0.25),
            }).ToArray()),
            _ => throw new ArgumentException(
                $"Unknown augmentation preset '{name}'. Valid presets: {string.Join(", ", PresetNames)}.", nameof(name)),
        };
    }
}
