namespace FashionVision.Imaging;

/// <summary>Whether to turn dark-on-light images into light-on-dark ones, as the MNIST family stores them.</summary>
public enum InversionMode
{
    /// <summary>Invert when the image's border is mostly light (a photo or scan of a dark object on paper or a white background).</summary>
    Auto,

    /// <summary>Never invert (the image is already light-on-dark).</summary>
    Never,

    /// <summary>Always invert.</summary>
    Always,
}

/// <summary>Whether images are read as gray levels or in colour.</summary>
public enum ColorMode
{
    /// <summary>Gray levels (ITU-R BT.601 luma); with three output channels the gray value is repeated.</summary>
    Grayscale,

    /// <summary>Red, green and blue planes; needs three output channels.</summary>
    Rgb,
}

/// <summary>How the object is placed in the output image.</summary>
public enum FitMode
{
    /// <summary>No fitting: the whole image is resized to the output size (unchanged when it already has that size).</summary>
    None,

    /// <summary>
    /// Fashion-MNIST style: crop to the bounding box of the object's pixels, scale its longer side to
    /// <see cref="ImageDecodeOptions.ObjectSize"/> (keeping the aspect ratio) and centre the box.
    /// </summary>
    BoundingBox,

    /// <summary>
    /// MNIST style: crop to the bounding box, scale its longer side to <see cref="ImageDecodeOptions.ObjectSize"/> (20 px for
    /// MNIST) and place it so that its centre of mass is at the centre of the output.
    /// </summary>
    CenterOfMass,
}

/// <summary>How an image file becomes model input: size, channels, colour, inversion and fitting.</summary>
/// <param name="Width">Output width in pixels.</param>
/// <param name="Height">Output height in pixels.</param>
/// <param name="Channels">Output channels: 1 (grayscale) or 3 (colour with <see cref="ColorMode.Rgb"/>, otherwise the gray value repeated, for ImageNet-style models).</param>
/// <param name="Inversion">Whether to invert intensities.</param>
/// <param name="Fit">How the object is placed.</param>
/// <param name="ObjectSize">The longer side of the object after fitting; null for the output's shorter side.</param>
/// <param name="BackgroundThreshold">After inversion, pixels brighter than this (in [0, 1)) count as object when finding its bounding box.</param>
/// <param name="Color">Gray levels or colour; colour needs <paramref name="Channels"/> = 3. Inversion and fitting look at the luma.</param>
public sealed record ImageDecodeOptions(
    int Width = 28,
    int Height = 28,
    int Channels = 1,
    InversionMode Inversion = InversionMode.Auto,
    FitMode Fit = FitMode.BoundingBox,
    int? ObjectSize = null,
    double BackgroundThreshold = 0.2,
    ColorMode Color = ColorMode.Grayscale)
{
    /// <summary>Fashion-MNIST preparation: the object's longer side fills 28 px, centred by its bounding box; auto inversion.</summary>
    public static ImageDecodeOptions FashionMnist { get; } = new();

    /// <summary>MNIST preparation: the digit's longer side is 20 px, centred by its centre of mass in 28×28; auto inversion.</summary>
    public static ImageDecodeOptions Mnist { get; } = new(Fit: FitMode.CenterOfMass, ObjectSize: 20);

    /// <summary>No inversion and no fitting: only decoding, grayscale conversion and (if needed) resizing.</summary>
    public static ImageDecodeOptions Raw { get; } = new(Inversion: InversionMode.Never, Fit: FitMode.None);

    /// <summary>
    /// Images that declare more pixels than this are refused before any pixel is decoded (a server lowers it so that a small
    /// file declaring huge dimensions cannot make it allocate gigabytes). At most <see cref="ImageDecoder.MaxPixels"/>.
    /// </summary>
    public long MaxPixels { get; init; } = ImageDecoder.MaxPixels;

    internal void Validate(string paramName)
    {
        if (Width is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(paramName, Width, $"{nameof(Width)} must be between 1 and 4096.");
        if (Height is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(paramName, Height, $"{nameof(Height)} must be between 1 and 4096.");
        if (Channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(paramName, Channels, $"{nameof(Channels)} must be 1 or 3.");
        if (!Enum.IsDefined(Color))
            throw new ArgumentOutOfRangeException(paramName, Color, $"Unknown {nameof(Color)} mode.");
        if (Color == ColorMode.Rgb && Channels != 3)
            throw new ArgumentOutOfRangeException(paramName, Channels, $"{nameof(ColorMode.Rgb)} colour needs 3 {nameof(Channels)}.");
        if (!Enum.IsDefined(Inversion))
            throw new ArgumentOutOfRangeException(paramName, Inversion, $"Unknown {nameof(Inversion)} mode.");
        if (!Enum.IsDefined(Fit))
            throw new ArgumentOutOfRangeException(paramName, Fit, $"Unknown {nameof(Fit)} mode.");
        if (ObjectSize is { } size && (size < 1 || size > Math.Min(Width, Height)))
            throw new ArgumentOutOfRangeException(paramName, size, $"{nameof(ObjectSize)} must be between 1 and the output's shorter side ({Math.Min(Width, Height)}).");
        if (!(BackgroundThreshold is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(paramName, BackgroundThreshold, $"{nameof(BackgroundThreshold)} must be in [0, 1).");
        if (MaxPixels is < 1 or > ImageDecoder.MaxPixels)
            throw new ArgumentOutOfRangeException(paramName, MaxPixels, $"{nameof(MaxPixels)} must be between 1 and {ImageDecoder.MaxPixels}.");
    }
}
