namespace FashionVision.Models;

/// <summary>The classifier that turns an <see cref="ImageClassifier"/>'s embedding into logits.</summary>
public enum HeadKind
{
    /// <summary>A linear layer, <c>W·e + b</c> (the default).</summary>
    Linear,

    /// <summary>
    /// A cosine classifier, <c>s·cos(e, wₖ)</c>: the embedding and each class weight are L2-normalised, so logits depend on
    /// angles only. ArcFace trains it (<c>ArcFaceLoss</c>); evaluation and export read the plain cosine logits.
    /// </summary>
    Cosine,
}
