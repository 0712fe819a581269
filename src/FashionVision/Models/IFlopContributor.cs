using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// A module whose own tensor products (outside its <c>Conv2d</c> and <c>Linear</c> children, which <see cref="FlopCounter"/>
/// counts by itself) belong in a model's cost, such as the two matrix products of self-attention.
/// </summary>
public interface IFlopContributor
{
    /// <summary>The multiply-adds of the module's own products for one forward pass that produced <paramref name="output"/> (the whole batch).</summary>
    /// <param name="output">The module's output.</param>
    long OwnMultiplyAdds(Tensor output);
}
