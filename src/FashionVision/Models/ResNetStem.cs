namespace FashionVision.Models;

/// <summary>The first layers of a <see cref="ResNet"/>, chosen by input size.</summary>
public enum ResNetStem
{
    /// <summary>For small images (28×28, 32×32): a 3×3 stride-1 convolution, no max-pool; the feature map ends at 1/8 of the input.</summary>
    Native,

    /// <summary>torchvision's stem for 224×224 images: a 7×7 stride-2 convolution and a 3×3 stride-2 max-pool; the map ends at 1/32.</summary>
    ImageNet,
}
