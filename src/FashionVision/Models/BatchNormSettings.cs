using TorchSharp;
using TorchSharp.Modules;

namespace FashionVision.Models;

/// <summary>Sets the momentum and ε of every BatchNorm layer in a model (what <see cref="ModelOptions.BatchNormMomentum"/> and
/// <see cref="ModelOptions.BatchNormEpsilon"/> do for zoo models).</summary>
public static class BatchNormSettings
{
    /// <summary>Sets <paramref name="momentum"/> and <paramref name="epsilon"/> (each when not null) on every BatchNorm1d/2d/3d of <paramref name="model"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="momentum">The running-statistics momentum in [0, 1] (PyTorch's convention), or null to keep each layer's.</param>
    /// <param name="epsilon">The variance ε, positive, or null to keep each layer's.</param>
    /// <returns>The number of BatchNorm layers found.</returns>
    public static int Apply(torch.nn.Module model, double? momentum, double? epsilon)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (momentum is double m && !(m >= 0 && m <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), m, "The BatchNorm momentum must be in [0, 1].");
        if (epsilon is double e && !(e > 0 && double.IsFinite(e)))
            throw new ArgumentOutOfRangeException(nameof(epsilon), e, "The BatchNorm epsilon must be finite and positive.");
        int count = 0;
        foreach (var batchNorm in model.modules().OfType<BatchNorm>())
        {
            if (momentum is double mm)
                batchNorm.momentum = mm;
            if (epsilon is double ee)
                batchNorm.eps = ee;
            count++;
        }
        return count;
    }
}
