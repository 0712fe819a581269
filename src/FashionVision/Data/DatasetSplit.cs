namespace FashionVision.Data;

/// <summary>The standard splits of a dataset.</summary>
public enum DatasetSplit
{
    /// <summary>The training split (60,000 images for MNIST and Fashion-MNIST).</summary>
    Train,

    /// <summary>The test split (10,000 images for MNIST and Fashion-MNIST).</summary>
    Test,
}
