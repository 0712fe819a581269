namespace FashionVision.Models;

/// <summary>What <see cref="ModelZoo.Describe"/> reports about a model: its size and cost, computed from a built instance.</summary>
/// <param name="Name">The registry name.</param>
/// <param name="Summary">A one-line description of the architecture.</param>
/// <param name="InputChannels">Channels of the expected input.</param>
/// <param name="InputHeight">Height of the expected input in pixels.</param>
/// <param name="InputWidth">Width of the expected input in pixels.</param>
/// <param name="NumClasses">The number of classes of the head.</param>
/// <param name="ParameterCount">Number of learnable parameters (elements of all parameters, buffers excluded).</param>
/// <param name="FlopsPerImage">
/// Floating-point operations of one forward pass for one image: 2 × the multiply-adds of every Conv2d and Linear layer, at
/// the expected input size (see <see cref="FlopCounter"/>).
/// </param>
/// <param name="ReferenceAccuracy">A reference result for this architecture with its source: a paper and its table or figure, a public benchmark table, or the command that measured it here.</param>
public sealed record ModelInfo(
    string Name,
    string Summary,
    int InputChannels,
    int InputHeight,
    int InputWidth,
    int NumClasses,
    long ParameterCount,
    long FlopsPerImage,
    string ReferenceAccuracy)
{
    /// <summary>The expected input as C×H×W, e.g. <c>1×28×28</c>.</summary>
    public string InputShape => $"{InputChannels}×{InputHeight}×{InputWidth}";

    /// <summary>Multiply-adds per image (half of <see cref="FlopsPerImage"/>), the unit many papers quote.</summary>
    public long MultiplyAddsPerImage => FlopsPerImage / 2;
}
