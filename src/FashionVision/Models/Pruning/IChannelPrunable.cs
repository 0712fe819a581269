namespace FashionVision.Models.Pruning;

/// <summary>
/// A model whose convolution widths can be chosen freely and that describes which channels must be pruned together, so
/// <see cref="ChannelPruner"/> can rebuild it genuinely smaller. <see cref="FastCnn"/> and <see cref="ResNet"/> (without
/// attention) implement it; implement it on your own model to make it prunable.
/// </summary>
public interface IChannelPrunable
{
    /// <summary>
    /// The current width of every channel group, in the order of <see cref="ChannelGroups"/>: the values that
    /// <see cref="ModelOptions.ChannelWidths"/> takes to rebuild this exact architecture.
    /// </summary>
    IReadOnlyList<int> ChannelWidths { get; }

    /// <summary>The channel groups, in the order of <see cref="ChannelWidths"/>.</summary>
    /// <exception cref="NotSupportedException">This configuration of the model cannot be pruned (the message says why).</exception>
    IReadOnlyList<ChannelGroup> ChannelGroups();

    /// <summary>
    /// Builds a freshly initialised model of the same architecture and options with one width per channel group; its
    /// state-dict names are this model's.
    /// </summary>
    /// <param name="channelWidths">One positive width per entry of <see cref="ChannelGroups"/>.</param>
    ImageClassifier WithChannelWidths(IReadOnlyList<int> channelWidths);
}
