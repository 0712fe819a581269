using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// The Lookahead optimizer wrapper (Zhang et al. 2019, "Lookahead Optimizer: k steps forward, 1 step back"): the inner
/// optimizer takes <c>k</c> fast steps, then the slow weights move α of the way towards the fast weights and the fast
/// weights restart from the slow ones.
/// </summary>
public sealed class Lookahead : optim.Optimizer
{
    private readonly TorchSharp.Modules.Parameter[] _parameters;
    private Tensor[]? _slow;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The fast optimizer (owned by this wrapper from now on).</param>
    /// <param name="k">Fast steps between synchronisations.</param>
    /// <param name="alpha">The slow step size in (0, 1].</param>
    public Lookahead(optim.Optimizer inner, int k = 5, double alpha = 0.5) : base(IntPtr.Zero)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (!(alpha > 0 && alpha <= 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Alpha must be in (0, 1].");
        Inner = inner;
        K = k;
        Alpha = alpha;
        _parameters = inner.parameters().ToArray();
    }

    /// <summary>The fast optimizer.</summary>
    public optim.Optimizer Inner { get; }

    /// <summary>Fast steps between synchronisations.</summary>
    public int K { get; }

    /// <summary>The slow step size.</summary>
    public double Alpha { get; }

    /// <summary>Fast steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <inheritdoc />
    public override IEnumerable<optim.ILearningRateController> ParamGroups => Inner.ParamGroups;

    /// <inheritdoc />
    public override IEnumerable<TorchSharp.Modules.Parameter> parameters() => _parameters;

    /// <inheritdoc />
    public override void zero_grad() => Inner.zero_grad();

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null)
    {
        EnsureSlow();
        var loss = Inner.step(closure);
        StepCount++;
        if (StepCount % K == 0)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            for (int i = 0; i < _parameters.Length; i++)
            {
                _slow![i].lerp_(_parameters[i], Alpha);
                _parameters[i].copy_(_slow[i]);
            }
        }
        return loss;
    }

    private void EnsureSlow()
    {
        if (_slow is not null)
            return;
        using var noGrad = no_grad();
        _slow = _parameters.Select(p => p.clone().DetachFromDisposeScope()).ToArray();
    }

    /// <summary>Writes the step count and slow weights (the inner optimizer is saved separately).</summary>
    internal void SaveState(BinaryWriter writer)
    {
        EnsureSlow();
        writer.Write(StepCount);
        writer.Write(_slow!.Length);
        foreach (var s in _slow)
            s.Save(writer);
    }

    /// <summary>Reads what <see cref="SaveState"/> wrote.</summary>
    internal void LoadState(BinaryReader reader)
    {
        EnsureSlow();
        long steps = reader.ReadInt64();
        int count = reader.ReadInt32();
        if (count != _slow!.Length)
            throw new InvalidDataException($"The Lookahead state holds {count} slow tensors but the optimizer has {_slow.Length} parameters.");
        using var noGrad = no_grad();
        foreach (var s in _slow)
        {
            using var loaded = TensorExtensionMethods.Load(reader);
            s.copy_(loaded);
        }
        StepCount = steps;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_slow is not null)
                foreach (var s in _slow)
                    s.Dispose();
            Inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
