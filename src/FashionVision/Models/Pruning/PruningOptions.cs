namespace FashionVision.Models.Pruning;

/// <summary>How <see cref="ChannelPruner"/> ranks the filters of a channel group.</summary>
public enum FilterImportance
{
    /// <summary>The L1 norm of each filter of the producing convolutions (Li et al., ICLR 2017, "Pruning Filters for Efficient ConvNets").</summary>
    L1Norm,

    /// <summary>The absolute scale γ of the BatchNorm after each producing convolution (Liu et al., ICCV 2017, "Network Slimming").</summary>
    BatchNormScale,
}

/// <summary>What <see cref="ChannelPruner.Prune"/> removes. The defaults keep 80% of every group, ranked by filter L1 norm.</summary>
public sealed record PruningOptions
{
    /// <summary>The fraction of channels kept in every channel group, in (0, 1] (default 0.8); each group keeps at least one.</summary>
    public double Keep { get; init; } = 0.8;

    /// <summary>How filters are ranked (default <see cref="FilterImportance.L1Norm"/>).</summary>
    public FilterImportance Importance { get; init; } = FilterImportance.L1Norm;

    /// <summary>Checks the options; the exception's parameter name is the option at fault.</summary>
    public void Validate()
    {
        if (!(Keep > 0 && Keep <= 1))
            throw new ArgumentOutOfRangeException(nameof(Keep), Keep, "PruningOptions.Keep must be in (0, 1].");
        if (!Enum.IsDefined(Importance))
            throw new ArgumentOutOfRangeException(nameof(Importance), Importance, "PruningOptions.Importance is not a defined value.");
    }
}

/// <summary>One channel group after pruning.</summary>
/// <param name="Name">The group's name (<see cref="ChannelGroup.Name"/>).</param>
/// <param name="WidthBefore">Its width before pruning.</param>
/// <param name="KeptChannels">The indices of the channels kept, ascending (their order in the pruned model).</param>
public sealed record PrunedGroup(string Name, int WidthBefore, IReadOnlyList<int> KeptChannels)
{
    /// <summary>Its width after pruning.</summary>
    public int WidthAfter => KeptChannels.Count;
}

/// <summary>What <see cref="ChannelPruner.Prune"/> built.</summary>
/// <param name="Model">The pruned model: a new, smaller instance of the same architecture holding the kept weights, on the original's device and in its mode.</param>
/// <param name="ChannelWidths">Its widths (what <see cref="ModelOptions.ChannelWidths"/> takes to rebuild it).</param>
/// <param name="Groups">Every channel group with the channels it kept.</param>
/// <param name="ParametersBefore">Parameters of the original model.</param>
/// <param name="ParametersAfter">Parameters of the pruned model.</param>
public sealed record PruningResult(ImageClassifier Model, IReadOnlyList<int> ChannelWidths, IReadOnlyList<PrunedGroup> Groups,
    long ParametersBefore, long ParametersAfter)
{
    /// <summary>The fraction of parameters that remain.</summary>
    public double ParameterRatio => (double)ParametersAfter / ParametersBefore;
}
