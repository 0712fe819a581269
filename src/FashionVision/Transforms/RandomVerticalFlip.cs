namespace FashionVision.Transforms;

/// <summary>Mirrors each sample top to bottom with probability <see cref="RandomBatchTransform.P"/>.</summary>
public sealed class RandomVerticalFlip : RandomFlip
{
    /// <summary>Creates the transform.</summary>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    public RandomVerticalFlip(double p = 0.5) : base(p, TransformFunctional.VerticalFlip, mirroredMapEntry: 4)
    {
    }
}
