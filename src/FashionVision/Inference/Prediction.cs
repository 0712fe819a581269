namespace FashionVision.Inference;

/// <summary>One class and its probability.</summary>
/// <param name="ClassIndex">The class index.</param>
/// <param name="ClassName">The class name.</param>
/// <param name="Probability">The softmax probability.</param>
public readonly record struct ClassProbability(int ClassIndex, string ClassName, float Probability);

/// <summary>The prediction for one image.</summary>
/// <param name="ClassIndex">The most probable class.</param>
/// <param name="ClassName">Its name.</param>
/// <param name="Probabilities">Softmax probabilities of every class, in class order.</param>
/// <param name="TopK">The most probable classes, best first.</param>
public sealed record Prediction(int ClassIndex, string ClassName, IReadOnlyList<float> Probabilities, IReadOnlyList<ClassProbability> TopK)
{
    /// <summary>The probability of the predicted class.</summary>
    public float Confidence => Probabilities[ClassIndex];
}
