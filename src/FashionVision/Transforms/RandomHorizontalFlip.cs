namespace FashionVision.Transforms;

/// <summary>Mirrors each sample left to right with probability <see cref="RandomBatchTransform.P"/>.</summary>
/// <remarks>Suits Fashion-MNIST (garments are left-right symmetric in meaning); do not use it on digits.</remarks>
public sealed class RandomHorizontalFlip : RandomFlip
{
    /// <summary>Creates the transform.</summary>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    public RandomHorizontalFlip(double p = 0.5) : base(p, TransformFunctional.HorizontalFlip, mirroredMapEntry: 0)
    {
    }
}
