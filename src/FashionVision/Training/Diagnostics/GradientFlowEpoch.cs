namespace FashionVision.Training;

/// <summary>The gradient norm of one layer over one epoch, as <see cref="GradientFlowMonitor"/> measured it.</summary>
/// <param name="Layer">The layer's module path (<c>layer1.0.conv1</c>), the prefix of its parameters' names.</param>
/// <param name="MeanNorm">The mean over the measured steps of the L2 norm of the layer's gradient (all its parameters together).</param>
/// <param name="MaxNorm">The largest of those norms.</param>
public sealed record LayerGradientNorm(string Layer, double MeanNorm, double MaxNorm);

/// <summary>One epoch of <see cref="GradientFlowMonitor"/>: every layer's gradient norm, layers in parameter (roughly forward) order.</summary>
/// <param name="Epoch">The epoch (starting at 1).</param>
/// <param name="Steps">The optimizer steps measured in the epoch.</param>
/// <param name="Layers">The layers.</param>
public sealed record GradientFlowEpoch(int Epoch, int Steps, IReadOnlyList<LayerGradientNorm> Layers);
