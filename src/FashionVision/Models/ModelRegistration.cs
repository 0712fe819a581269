namespace FashionVision.Models;

/// <summary>One entry of the <see cref="ModelZoo"/>: how to build a model and what to say about it.</summary>
/// <param name="Name">The registry name (lower-case, hyphenated).</param>
/// <param name="Factory">Builds the model from fully resolved options.</param>
/// <param name="Summary">A one-line description of the architecture.</param>
/// <param name="DefaultOptions">The options used when <see cref="ModelZoo.Create"/> gets none.</param>
/// <param name="InputHeight">Height of the expected input.</param>
/// <param name="InputWidth">Width of the expected input.</param>
/// <param name="ReferenceAccuracy">A reference result with its source: a paper and its table or figure, a public benchmark table, or the command that measured it here.</param>
public sealed record ModelRegistration(
    string Name,
    Func<ModelOptions, ImageClassifier> Factory,
    string Summary,
    ModelOptions DefaultOptions,
    int InputHeight,
    int InputWidth,
    string ReferenceAccuracy)
{
    /// <summary>
    /// The preprocessing the model expects when it is fed 28×28 grey images (like torchvision's model metadata), or null
    /// when it takes them as they are: <c>resnet18-imagenet</c> has <see cref="InputPreprocessing.ImageNet"/>. Apps (and the
    /// CLI) put it into <see cref="ModelOptions.Preprocessing"/>, changing the size if they like.
    /// </summary>
    public InputPreprocessing? Preprocessing { get; init; }
}
