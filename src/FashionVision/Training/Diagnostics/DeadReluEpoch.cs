namespace FashionVision.Training;

/// <summary>One ReLU call site over one epoch, as <see cref="DeadReluMonitor"/> measured it.</summary>
/// <param name="Site">The ReLU module's path, with <c>#2</c>, <c>#3</c> … for its second and later calls in one forward pass (a
/// block's ReLU used after the convolution and after the residual addition is two sites).</param>
/// <param name="Units">The units of the site: channels of a feature map, features of a vector.</param>
/// <param name="DeadUnits">Units whose output was zero for every sample (and position) of every measured batch.</param>
/// <param name="ZeroFraction">The fraction of all outputs that were zero.</param>
public sealed record ReluSite(string Site, long Units, long DeadUnits, double ZeroFraction)
{
    /// <summary>The fraction of the site's units that are dead.</summary>
    public double DeadFraction => Units == 0 ? 0 : (double)DeadUnits / Units;
}

/// <summary>One epoch of <see cref="DeadReluMonitor"/>: every ReLU site in forward order.</summary>
/// <param name="Epoch">The epoch (starting at 1).</param>
/// <param name="Batches">The training batches measured in the epoch.</param>
/// <param name="Sites">The ReLU sites.</param>
public sealed record DeadReluEpoch(int Epoch, int Batches, IReadOnlyList<ReluSite> Sites)
{
    /// <summary>All units of all sites.</summary>
    public long Units => Sites.Sum(s => s.Units);

    /// <summary>The dead units of all sites.</summary>
    public long DeadUnits => Sites.Sum(s => s.DeadUnits);

    /// <summary>The fraction of all units that are dead.</summary>
    public double DeadFraction => Units == 0 ? 0 : (double)DeadUnits / Units;
}
