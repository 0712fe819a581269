namespace FashionVision.TorchVision.Tests;

/// <summary>Exact tensor comparison (TorchSharp's <c>equal</c> is element-wise and returns a tensor).</summary>
internal static class TensorComparison
{
    /// <summary>Same dtype, same shape, every element equal.</summary>
    public static bool Identical(this Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        return actual.dtype == expected.dtype && actual.shape.SequenceEqual(expected.shape) && actual.eq(expected).all().item<bool>();
    }
}
