using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Gradient flow: the L2 norm of each layer's gradient (all parameters of one module together), measured before the optimizer
/// step every <see cref="DiagnosticsCallback{TEpoch}.Interval"/> steps, averaged per epoch, logged and kept in <see cref="DiagnosticsCallback{TEpoch}.History"/>. Vanishing gradients
/// show as norms that fall by orders of magnitude towards the input; exploding ones as a growing maximum.
/// </summary>
/// <remarks>
/// <para>Cheap enough to leave on: a measured step costs one reduction per parameter tensor and one scatter-add on the device;
/// the numbers reach the CPU once per epoch. Norms are taken after gradient clipping (<see cref="TrainerOptions.GradientClipNorm"/>)
/// and over the accumulated gradient with accumulation; a parameter without a gradient counts as zero.</para>
/// <para>The history survives a resume: it is kept in the checkpoint.</para>
/// </remarks>
public sealed class GradientFlowMonitor : DiagnosticsCallback<GradientFlowEpoch>
{
    private Parameter[] _parameters = Array.Empty<Parameter>();
    private string[] _layers = Array.Empty<string>();
    private Tensor? _layerIndex;
    private Tensor? _sum;
    private Tensor? _max;
    private long _calls;
    private int _steps;

    /// <summary>Creates the monitor.</summary>
    /// <param name="interval">Measure every this many optimizer steps (default 10; 1 measures every step).</param>
    public GradientFlowMonitor(int interval = 10) : base(interval)
    {
    }

    /// <inheritdoc />
    public override void OnFitStart(Trainer trainer)
    {
        var named = trainer.Model.named_parameters().Where(p => p.parameter.requires_grad).ToArray();
        _parameters = named.Select(p => p.parameter).ToArray();
        _layers = named.Select(p => LayerOf(p.name)).Distinct().ToArray();
        var index = named.Select(p => (long)Array.IndexOf(_layers, LayerOf(p.name))).ToArray();
        _layerIndex?.Dispose();
        _layerIndex = tensor(index, device: trainer.Device).DetachFromDisposeScope();
        StartHistory(trainer);
        ResetEpoch(trainer.Device);
    }

    /// <summary>The layer of a parameter: its name without the last segment (<c>layer1.0.conv1.weight</c> → <c>layer1.0.conv1</c>).</summary>
    internal static string LayerOf(string parameterName)
    {
        int dot = parameterName.LastIndexOf('.');
        return dot < 0 ? parameterName : parameterName[..dot];
    }

    /// <inheritdoc />
    public override void OnEpochStart(Trainer trainer, int epoch) => ResetEpoch(trainer.Device);

    private void ResetEpoch(Device device)
    {
        _sum?.Dispose();
        _max?.Dispose();
        _sum = zeros(_layers.Length, ScalarType.Float32, device).DetachFromDisposeScope();
        _max = zeros(_layers.Length, ScalarType.Float32, device).DetachFromDisposeScope();
        _calls = 0;
        _steps = 0;
    }

    /// <inheritdoc />
    public override void OnBeforeOptimizerStep(Trainer trainer)
    {
        if (_calls++ % Interval != 0 || _parameters.Length == 0 || _sum is null || _max is null)
            return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var squares = stack(_parameters.Select(p => p.grad is { } g
            ? g.to(ScalarType.Float32).square().sum()
            : zeros(1, ScalarType.Float32, _sum.device).squeeze()).ToArray());
        var norms = zeros(_layers.Length, ScalarType.Float32, _sum.device).index_add_(0, _layerIndex!, squares, 1).sqrt_();
        _sum.add_(norms);
        _max.copy_(maximum(_max, norms));
        _steps++;
    }

    /// <inheritdoc />
    public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        if (_steps == 0 || _sum is null || _max is null)
            return;
        using var scope = NewDisposeScope();
        var mean = (_sum / _steps).cpu().data<float>().ToArray();
        var max = _max.cpu().data<float>().ToArray();
        var layers = _layers.Select((name, i) => new LayerGradientNorm(name, mean[i], max[i])).ToArray();
        var entry = new GradientFlowEpoch(metrics.Epoch, _steps, layers);
        Record(entry);
        var smallest = layers.MinBy(l => l.MeanNorm)!;
        var largest = layers.MaxBy(l => l.MeanNorm)!;
        trainer.Logger.LogInformation(
            "Gradient flow, epoch {Epoch}: {Layers} layers over {Steps} steps, mean L2 norm from {Smallest:G3} ({SmallestLayer}) to {Largest:G3} ({LargestLayer}); first layer {First:G3}, last {Last:G3}.",
            metrics.Epoch, layers.Length, _steps, smallest.MeanNorm, smallest.Layer, largest.MeanNorm, largest.Layer, layers[0].MeanNorm, layers[^1].MeanNorm);
        if (trainer.Logger.IsEnabled(LogLevel.Debug))
            foreach (var layer in layers)
                trainer.Logger.LogDebug("Gradient flow, epoch {Epoch}: {Layer} mean {Mean:G4}, max {Max:G4}.", metrics.Epoch, layer.Layer, layer.MeanNorm, layer.MaxNorm);
    }
}
