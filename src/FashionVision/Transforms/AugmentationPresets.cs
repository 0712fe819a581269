namespace FashionVision.Transforms;

/// <summary>
/// Named augmentation chains for 28×28 grayscale training batches in [0, 1] (what the CLI's <c>--augmentation</c> offers).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>none</c>: nothing.</item>
/// <item><c>basic</c>: horizontal flip and a ±2-pixel random crop.</item>
/// <item><c>standard</c>: flip, a mild random affine (±10°, ±10% shift, 0.9–1.1 zoom) and random erasing.</item>
/// <item><c>strong</c>: flip, a stronger affine with shear, elastic distortion, random erasing and CutMix (soft targets).</item>
/// <item><c>trivial</c>: flip, TrivialAugment and random erasing.</item>
/// <item><c>randaugment</c>: flip, RandAugment (N = 2, M = 9 of 30) and random erasing.</item>
/// <item><c>autoaugment</c>: flip, the grayscale AutoAugment CIFAR-10 policy and random erasing.</item>
/// <item><c>jitter</c>: flip, a ±2-pixel random crop and brightness/contrast jitter (±30%, on 80% of the samples).</item>
/// <item><c>mixup</c>: flip, a ±2-pixel random crop and Mixup (α = 0.2, half the samples; soft targets).</item>
/// </list>
/// Horizontal flips suit clothing, not digits: pass <c>flip: false</c> for MNIST.
/// Presets apply to images before <see cref="Normalize"/>; put Normalize after them.
/// </remarks>
public static class AugmentationPresets
{
    private static readonly string[] PresetNames = { "none", "basic", "standard", "strong", "trivial", "randaugment", "autoaugment", "jitter", "mixup" };

    /// <summary>The preset names: the hand-made chains mildest first, then the automatic policies, then jitter and Mixup.</summary>
    public static IReadOnlyList<string> Names => PresetNames;

    /// <summary>Builds a preset chain.</summary>
    /// <param name="name">One of <see cref="Names"/> (case-insensitive).</param>
    /// <param name="numClasses">The class count, used by CutMix in <c>strong</c> and by <c>mixup</c>.</param>
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
            "randaugment" => new Compose(Flip().Concat(new IBatchTransform[]
            {
                new RandAugment(),
                new RandomErasing(p: 0.25),
            }).ToArray()),
            "autoaugment" => new Compose(Flip().Concat(new IBatchTransform[]
            {
                new AutoAugment(),
                new RandomErasing(p: 0.25),
            }).ToArray()),
            "jitter" => new Compose(Flip().Concat(new IBatchTransform[]
            {
                new RandomCrop(padding: 2),
                new ColorJitter(brightness: 0.3, contrast: 0.3, p: 0.8),
            }).ToArray()),
            "mixup" => new Compose(Flip().Concat(new IBatchTransform[]
            {
                new RandomCrop(padding: 2),
                new Mixup(numClasses, alpha: 0.2, p: 0.5),
            }).ToArray()),
            _ => throw new ArgumentException(
                $"Unknown augmentation preset '{name}'. Valid presets: {string.Join(", ", PresetNames)}.", nameof(name)),
        };
    }
}
