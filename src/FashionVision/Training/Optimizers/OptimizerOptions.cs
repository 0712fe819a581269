namespace FashionVision.Training;

/// <summary>The optimizers <see cref="OptimizerFactory"/> builds.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent with optional (Nesterov) momentum.</summary>
    Sgd,

    /// <summary>Adam (Kingma and Ba 2015) with L2 weight decay added to the gradient.</summary>
    Adam,

    /// <summary>AdamW (Loshchilov and Hutter 2019) with decoupled weight decay.</summary>
    AdamW,
}

/// <summary>A learning rate for the parameters whose names start with <paramref name="Prefix"/> (e.g. <c>"head."</c>).</summary>
/// <param name="Prefix">A parameter-name prefix as <c>named_parameters()</c> spells it.</param>
/// <param name="LearningRate">The base learning rate of that group (schedulers scale it like the others).</param>
public sealed record LayerLearningRate(string Prefix, double LearningRate);

/// <summary>Lookahead (Zhang et al. 2019): every <see cref="K"/> steps the slow weights move <see cref="Alpha"/> of the way to the fast ones, and the fast weights restart from them.</summary>
/// <param name="K">Inner steps between synchronisations (default 5).</param>
/// <param name="Alpha">The slow-weights step size in (0, 1] (default 0.5).</param>
public sealed record LookaheadOptions(int K = 5, double Alpha = 0.5);

/// <summary>How to build the optimizer. The defaults give AdamW with lr 1e-3 and weight decay 0.01 kept off normalisation and bias parameters.</summary>
public sealed record OptimizerOptions
{
    /// <summary>The optimizer (default AdamW).</summary>
    public OptimizerKind Kind { get; init; } = OptimizerKind.AdamW;

    /// <summary>The base learning rate (default 1e-3); schedulers scale it.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Weight decay (default 0.01).</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Keep weight decay off BatchNorm/normalisation parameters and biases (every parameter with fewer than two dimensions; default true).</summary>
    public bool NoWeightDecayOnNormAndBias { get; init; } = true;

    /// <summary>SGD momentum (default 0.9).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>SGD Nesterov momentum (default false).</summary>
    public bool Nesterov { get; init; }

    /// <summary>Adam β₁ (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam β₂ (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Adam ε (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Per-layer learning rates by parameter-name prefix; the first matching prefix wins, others use <see cref="LearningRate"/>.</summary>
    public IReadOnlyList<LayerLearningRate> LayerLearningRates { get; init; } = Array.Empty<LayerLearningRate>();

    /// <summary>Wrap the optimizer in Lookahead when set (default off).</summary>
    public LookaheadOptions? Lookahead { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        static bool Finite(double x) => double.IsFinite(x);
        if (!(LearningRate > 0) || !Finite(LearningRate))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be positive and finite.");
        if (!(WeightDecay >= 0) || !Finite(WeightDecay))
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Weight decay must be non-negative and finite.");
        if (!(Momentum >= 0 && Momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "Momentum must be in [0, 1).");
        if (Nesterov && Kind == OptimizerKind.Sgd && Momentum == 0)
            throw new ArgumentException("Nesterov momentum needs a positive momentum.", nameof(Nesterov));
        if (!(Beta1 >= 0 && Beta1 < 1))
            throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "Beta1 must be in [0, 1).");
        if (!(Beta2 >= 0 && Beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "Beta2 must be in [0, 1).");
        if (!(Epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Epsilon must be positive.");
        foreach (var layer in LayerLearningRates ?? throw new ArgumentNullException(nameof(LayerLearningRates)))
        {
            if (string.IsNullOrEmpty(layer.Prefix))
                throw new ArgumentException("A layer learning rate needs a non-empty prefix.", nameof(LayerLearningRates));
            if (!(layer.LearningRate > 0) || !Finite(layer.LearningRate))
                throw new ArgumentOutOfRangeException(nameof(LayerLearningRates), layer.LearningRate, $"The learning rate of '{layer.Prefix}' must be positive and finite.");
        }
        if (Lookahead is { } la)
        {
            if (la.K < 1)
                throw new ArgumentOutOfRangeException(nameof(Lookahead), la.K, "Lookahead K must be at least 1.");
            if (!(la.Alpha > 0 && la.Alpha <= 1))
                throw new ArgumentOutOfRangeException(nameof(Lookahead), la.Alpha, "Lookahead alpha must be in (0, 1].");
        }
    }
}
