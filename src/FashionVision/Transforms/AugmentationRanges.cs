namespace FashionVision.Transforms;

/// <summary>
/// How strong each <see cref="AugmentOperation"/> is at magnitude 1. <see cref="Standard"/> follows AutoAugment and RandAugment,
/// <see cref="Wide"/> TrivialAugmentWide; both cap rotation at 30° and translation at 0.3 of the size, because the published
/// shifts (150/331 of a 331-pixel photo) would push most of a 28×28 garment or digit out of the frame.
/// </summary>
/// <param name="MaxShear">The largest shear factor (0.3 standard, 0.99 wide: atan(0.99) ≈ 44.7°).</param>
/// <param name="MaxTranslate">The largest shift as a fraction of the size, in [0, 1].</param>
/// <param name="MaxRotation">The largest rotation in degrees.</param>
/// <param name="MaxEnhance">The largest change of a brightness, contrast or sharpness factor (0.9 standard, 0.99 wide).</param>
/// <param name="MaxPosterizeBits">The most bits posterize removes (4 standard: 8 → 4 bits; 6 wide: 8 → 2 bits).</param>
public sealed record AugmentationRanges(double MaxShear, double MaxTranslate, double MaxRotation, double MaxEnhance, double MaxPosterizeBits)
{
    /// <summary>AutoAugment's and RandAugment's ranges (shear 0.3, enhance 0.9, posterize to 4 bits), rotation 30°, shift 0.3.</summary>
    public static AugmentationRanges Standard { get; } = new(0.3, 0.3, 30, 0.9, 4);

    /// <summary>TrivialAugmentWide's ranges (shear 0.99, enhance 0.99, posterize to 2 bits) with the given rotation and shift.</summary>
    /// <param name="maxRotation">The largest rotation in degrees.</param>
    /// <param name="maxTranslate">The largest shift as a fraction of the size.</param>
    public static AugmentationRanges Wide(double maxRotation = 30, double maxTranslate = 0.3) => new(0.99, maxTranslate, maxRotation, 0.99, 6);

    /// <summary>Checks every range and returns the record.</summary>
    /// <param name="paramName">The argument to name in an exception.</param>
    internal AugmentationRanges Validate(string paramName)
    {
        if (!(MaxShear >= 0 && MaxShear < 10) || !(MaxTranslate >= 0 && MaxTranslate <= 1) || !(MaxRotation >= 0 && MaxRotation <= 180) ||
            !(MaxEnhance >= 0 && MaxEnhance <= 1) || !(MaxPosterizeBits >= 0 && MaxPosterizeBits <= 7))
            throw new ArgumentOutOfRangeException(paramName, this,
                "Augmentation ranges need shear in [0, 10), translate in [0, 1], rotation in [0, 180], enhance in [0, 1] and posterize bits in [0, 7].");
        return this;
    }
}
