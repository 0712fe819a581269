namespace FashionVision.Transforms;

/// <summary>One step of an <see cref="AutoAugment"/> sub-policy: an operation, the probability it runs, and its magnitude level.</summary>
/// <param name="Operation">The operation.</param>
/// <param name="Probability">The probability, in [0, 1], that the step runs on a sample that drew its sub-policy.</param>
/// <param name="Magnitude">The magnitude level, from 0 to the policy's bins − 1 (AutoAugment's 0–9); ignored by AutoContrast and Identity.</param>
public sealed record AutoAugmentStep(AugmentOperation Operation, double Probability, int Magnitude = 0);
