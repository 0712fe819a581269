namespace FashionVision.Transforms;

/// <summary>
/// The image operations of the automatic augmentation policies (<see cref="TrivialAugment"/>, <see cref="RandAugment"/>,
/// <see cref="AutoAugment"/>) that mean something for grayscale images. Their strength comes from a magnitude in [0, 1] and
/// the ranges of <see cref="AugmentationRanges"/>; the signed ones also get a random sign.
/// </summary>
/// <remarks>Colour (saturation), hue and Equalize are left out: the first two are the identity on grayscale, and a per-sample
/// histogram equalisation costs more than the rest of a policy together.</remarks>
public enum AugmentOperation
{
    /// <summary>No change.</summary>
    Identity,

    /// <summary>Horizontal shear by up to <see cref="AugmentationRanges.MaxShear"/> (signed).</summary>
    ShearX,

    /// <summary>Vertical shear (signed).</summary>
    ShearY,

    /// <summary>Horizontal shift by up to <see cref="AugmentationRanges.MaxTranslate"/> of the width (signed).</summary>
    TranslateX,

    /// <summary>Vertical shift (signed).</summary>
    TranslateY,

    /// <summary>Rotation by up to <see cref="AugmentationRanges.MaxRotation"/> degrees (signed).</summary>
    Rotate,

    /// <summary>Brightness factor 1 ± <see cref="AugmentationRanges.MaxEnhance"/>·magnitude (signed).</summary>
    Brightness,

    /// <summary>Contrast factor 1 ± MaxEnhance·magnitude (signed).</summary>
    Contrast,

    /// <summary>Sharpness factor 1 ± MaxEnhance·magnitude (signed).</summary>
    Sharpness,

    /// <summary>Keep round(8 − <see cref="AugmentationRanges.MaxPosterizeBits"/>·magnitude) bits.</summary>
    Posterize,

    /// <summary>Invert the values at or above 1 − magnitude.</summary>
    Solarize,

    /// <summary>Stretch to the full range (no magnitude).</summary>
    AutoContrast,
}
