using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Dead ReLUs: for every ReLU (and ReLU6) call site of the model, the units (channels of a feature map, features of a vector)
/// whose output was zero for every sample and position of the measured training batches of an epoch, and the fraction of
/// zero outputs; logged each epoch and kept in <see cref="DiagnosticsCallback{TEpoch}.History"/>. A unit that never fires gets no gradient and never
/// recovers, so a growing dead fraction means lost capacity (too high a learning rate, a bad initialisation).
/// </summary>
/// <remarks>
/// <para>Measured with forward hooks on the ReLU modules, which fire when a module runs through <c>Module.call</c> (the zoo's
/// models call every submodule that way, and <c>Sequential</c> calls its children that way); in-place ReLUs are fine, the
/// hook reads the rectified tensor. A ReLU applied as a function (<c>nn.functional.relu</c>) is invisible to it. A module
/// called several times in one forward pass (a residual block's ReLU) gives one site per call, in call order.</para>
/// <para>Cheap enough to leave on: only every <see cref="DiagnosticsCallback{TEpoch}.Interval"/>-th training batch is measured, with two reductions per
/// site that stay on the device; validation passes are not measured. The numbers reach the CPU once per epoch.</para>
/// </remarks>
public sealed class DeadReluMonitor : DiagnosticsCallback<DeadReluEpoch>
{
    private readonly List<Action> _removeHooks = new();
    private readonly Dictionary<nn.Module, string> _names = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<nn.Module, int> _calls = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, SiteAccumulator> _sites = new();
    private readonly List<string> _order = new();
    private bool _armed;
    private int _batches;

    /// <summary>Creates the monitor.</summary>
    /// <param name="interval">Measure every this many training batches (default 10; 1 measures every batch).</param>
    public DeadReluMonitor(int interval = 10) : base(interval)
    {
    }

    /// <summary>The number of ReLU modules hooked in the current run.</summary>
    public int HookedModules => _names.Count;

    /// <inheritdoc />
    public override void OnFitStart(Trainer trainer)
    {
        RemoveHooks();
        StartHistory(trainer);
        foreach (var (name, module) in trainer.Model.named_modules())
        {
            if (module is ReLU relu)
                Hook(relu, name);
            else if (module is ReLU6 relu6)
                Hook(relu6, name);
        }
        if (_names.Count == 0)
            trainer.Logger.LogInformation("Dead-ReLU monitor: the model has no ReLU modules; nothing to measure.");
    }

    private void Hook(nn.Module<Tensor, Tensor> module, string name)
    {
        _names[module] = name.Length == 0 ? module.GetName() : name;
        _removeHooks.Add(module.register_forward_hook((m, _, output) =>
        {
            if (_armed)
                Record(m, output);
            return output;
        }).remove);
    }

    /// <inheritdoc />
    public override void OnEpochStart(Trainer trainer, int epoch)
    {
        DisposeSites();
        _batches = 0;
    }

    /// <inheritdoc />
    public override void OnBatchStart(Trainer trainer, int epoch, int batch)
    {
        _armed = _names.Count > 0 && (batch - 1) % Interval == 0;
        if (!_armed)
            return;
        _calls.Clear();
        _batches++;
    }

    /// <inheritdoc />
    public override void OnAfterBackward(Trainer trainer) => _armed = false;

    /// <inheritdoc />
    public override void OnBatchEnd(Trainer trainer, BatchEndEventArgs batch) => _armed = false;

    private void Record(nn.Module module, Tensor output)
    {
        int call = _calls.GetValueOrDefault(module) + 1;
        _calls[module] = call;
        string site = call == 1 ? _names[module] : $"{_names[module]}#{call}";
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var y = output.detach();
        // Units: the channels of N×C×H×W maps, the last axis of N×F vectors and N×T×F tokens.
        long unitAxis = y.dim() == 4 ? 1 : y.dim() - 1;
        var reduce = Enumerable.Range(0, (int)y.dim()).Where(d => d != unitAxis).Select(d => (long)d).ToArray();
        var fired = reduce.Length == 0 ? y.gt(0) : y.amax(reduce).gt(0);
        if (!_sites.TryGetValue(site, out var accumulator))
        {
            accumulator = new SiteAccumulator(fired.shape[0], y.device);
            _sites[site] = accumulator;
            if (!_order.Contains(site))
                _order.Add(site);
        }
        if (accumulator.Units != fired.shape[0])
            return; // the same call site saw another shape (a model whose path depends on the input); keep the first
        accumulator.Fired.logical_or_(fired);
        accumulator.Zeros.add_(y.le(0).sum());
        accumulator.Outputs += y.numel();
    }

    /// <inheritdoc />
    public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        if (_batches == 0 || _sites.Count == 0)
            return;
        var sites = new List<ReluSite>();
        foreach (var name in _order)
        {
            if (!_sites.TryGetValue(name, out var accumulator))
                continue;
            long alive = accumulator.Fired.sum().item<long>();
            long zeros = accumulator.Zeros.item<long>();
            sites.Add(new ReluSite(name, accumulator.Units, accumulator.Units - alive, accumulator.Outputs == 0 ? 0 : (double)zeros / accumulator.Outputs));
        }
        var entry = new DeadReluEpoch(metrics.Epoch, _batches, sites);
        Record(entry);
        var worst = sites.MaxBy(s => s.DeadFraction)!;
        trainer.Logger.LogInformation(
            "Dead ReLUs, epoch {Epoch}: {Dead} of {Units} units ({Fraction:P1}) never fired in {Batches} measured batches; {Sites} sites, most in {Worst} ({WorstFraction:P1}); {ZeroFraction:P1} of all outputs were zero.",
            metrics.Epoch, entry.DeadUnits, entry.Units, entry.DeadFraction, _batches, sites.Count, worst.Site, worst.DeadFraction,
            sites.Sum(s => s.ZeroFraction) / sites.Count);
        if (trainer.Logger.IsEnabled(LogLevel.Debug))
            foreach (var site in sites)
                trainer.Logger.LogDebug("Dead ReLUs, epoch {Epoch}: {Site} {Dead}/{Units} dead, {Zero:P1} zeros.", metrics.Epoch, site.Site, site.DeadUnits, site.Units, site.ZeroFraction);
    }

    /// <inheritdoc />
    public override void OnFitEnd(Trainer trainer, TrainingHistory history) => RemoveHooks();

    /// <inheritdoc />
    public override void OnException(Trainer trainer, Exception exception) => RemoveHooks();

    private void RemoveHooks()
    {
        foreach (var remove in _removeHooks)
            remove();
        _removeHooks.Clear();
        _names.Clear();
        _armed = false;
        DisposeSites();
        _order.Clear();
    }

    private void DisposeSites()
    {
        foreach (var site in _sites.Values)
            site.Dispose();
        _sites.Clear();
    }

    /// <summary>What one site has seen this epoch, on the device.</summary>
    private sealed class SiteAccumulator(long units, Device device) : IDisposable
    {
        public long Units { get; } = units;
        public Tensor Fired { get; } = zeros(units, ScalarType.Bool, device).DetachFromDisposeScope();
        public Tensor Zeros { get; } = zeros(1, ScalarType.Int64, device).squeeze().DetachFromDisposeScope();
        public long Outputs { get; set; }

        public void Dispose()
        {
            Fired.Dispose();
            Zeros.Dispose();
        }
    }
}
