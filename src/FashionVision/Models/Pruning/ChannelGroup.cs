namespace FashionVision.Models.Pruning;

/// <summary>
/// Channels that are pruned together: the output channels of one or more convolutions that meet in a residual addition
/// (or of a single convolution), and every tensor that reads them. Removing channel <c>c</c> of the group removes filter
/// <c>c</c> of every <see cref="Producers"/> convolution (and entry <c>c</c> of its BatchNorm) and slice <c>c</c> of every
/// <see cref="Consumers"/> tensor, so the pruned network computes the same function on the channels it keeps.
/// </summary>
/// <param name="Name">A readable name (e.g. <c>stage1</c>, <c>layer2.0</c>).</param>
/// <param name="Width">The number of channels in the group now.</param>
/// <param name="Producers">The convolutions whose output channels are the group's; their filters are what importance ranks.</param>
/// <param name="Consumers">The tensors indexed by the group's channels other than the producers' own (the next layers' inputs, the head).</param>
public sealed record ChannelGroup(string Name, int Width, IReadOnlyList<ChannelProducer> Producers, IReadOnlyList<ChannelSlice> Consumers);

/// <summary>A convolution whose output channels belong to a <see cref="ChannelGroup"/>, with the BatchNorm that normalises them.</summary>
/// <param name="Convolution">The state-dict prefix of the Conv2d (e.g. <c>layer1.0.conv2</c>): its <c>weight</c> (and <c>bias</c>) are sliced along dimension 0.</param>
/// <param name="BatchNorm">The state-dict prefix of its BatchNorm2d (e.g. <c>layer1.0.bn2</c>), or null: <c>weight</c>, <c>bias</c>, <c>running_mean</c> and <c>running_var</c> are sliced.</param>
public sealed record ChannelProducer(string Convolution, string? BatchNorm);

/// <summary>A state-dict tensor that is indexed by a <see cref="ChannelGroup"/>'s channels along one dimension.</summary>
/// <param name="Tensor">The state-dict name (e.g. <c>layer2.0.conv1.weight</c>).</param>
/// <param name="Dimension">The dimension the group's channels index (1 for the input channels of a Conv2d or Linear weight).</param>
/// <param name="Repeats">
/// How many times the group's channels appear along that dimension, one block after another (2 for a head that reads the
/// concatenated average and max pooling of the same channels).
/// </param>
public sealed record ChannelSlice(string Tensor, int Dimension, int Repeats = 1);
