namespace FashionVision.Transforms;

/// <summary>How <see cref="RandomCrop"/> pads the image before cropping.</summary>
public enum CropPadding
{
    /// <summary>Pads with the constant fill value.</summary>
    Constant,

    /// <summary>Pads with the mirror image, excluding the edge pixel (PyTorch's <c>reflect</c>).</summary>
    Reflect,

    /// <summary>Pads by repeating the edge pixel.</summary>
    Replicate,
}
