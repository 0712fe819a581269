namespace FashionVision.Tests;

/// <summary>Tensor comparisons for assertions (TorchSharp's Tensor.equal is element-wise).</summary>
internal static class TensorAssert
{
    /// <summary>True when both tensors have the same shape and identical values.</summary>
    public static bool SameValues(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape))
            return false;
        using var equal = a.eq(b);
        using var all = equal.all();
        return all.item<bool>();
    }
}
