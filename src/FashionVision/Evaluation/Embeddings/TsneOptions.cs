using static TorchSharp.torch;

namespace FashionVision.Evaluation;

/// <summary>How <see cref="Tsne"/> starts the map.</summary>
public enum TsneInitialization
{
    /// <summary>The first principal components, scaled to a standard deviation of 1e-4 (deterministic; keeps more global structure; scikit-learn's default).</summary>
    Pca,

    /// <summary>Gaussian noise with standard deviation 1e-4 from <see cref="TsneOptions.Seed"/> (the original paper).</summary>
    Random,
}

/// <summary>
/// Options of exact t-SNE. The defaults are scikit-learn's <c>TSNE(perplexity=30, early_exaggeration=12,
/// learning_rate="auto", init="pca", max_iter=1000)</c>, with inputs first reduced to 50 dimensions by PCA.
/// </summary>
public sealed record TsneOptions
{
    /// <summary>The largest number of points <see cref="Tsne.Fit"/> accepts: exact t-SNE holds several N×N matrices.</summary>
    public const int MaxPoints = 10_000;

    /// <summary>Dimensions of the map (default 2).</summary>
    public int Dimensions { get; init; } = 2;

    /// <summary>The perplexity, about the number of effective neighbours each point keeps (default 30; must be below N).</summary>
    public double Perplexity { get; init; } = 30;

    /// <summary>Gradient-descent iterations (default 1000).</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>The learning rate; null = scikit-learn's "auto", max(N / <see cref="EarlyExaggeration"/> / 4, 50).</summary>
    public double? LearningRate { get; init; }

    /// <summary>The factor P is multiplied by during the first <see cref="ExaggerationIterations"/> iterations (default 12).</summary>
    public double EarlyExaggeration { get; init; } = 12;

    /// <summary>Iterations with early exaggeration and momentum 0.5; afterwards momentum 0.8 (default 250).</summary>
    public int ExaggerationIterations { get; init; } = 250;

    /// <summary>Reduce the input to this many principal components before computing affinities (default 50; null = never).</summary>
    public int? PcaDimensions { get; init; } = 50;

    /// <summary>How the map starts (default <see cref="TsneInitialization.Pca"/>).</summary>
    public TsneInitialization Initialization { get; init; } = TsneInitialization.Pca;

    /// <summary>The seed of <see cref="TsneInitialization.Random"/>.</summary>
    public long Seed { get; init; }

    /// <summary>The device the N×N matrices live on (default CPU).</summary>
    public Device? Device { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the option at fault.</summary>
    public void Validate()
    {
        if (Dimensions < 1)
            throw new ArgumentOutOfRangeException(nameof(Dimensions), Dimensions, "TsneOptions.Dimensions must be at least 1.");
        if (!(Perplexity > 0) || !double.IsFinite(Perplexity))
            throw new ArgumentOutOfRangeException(nameof(Perplexity), Perplexity, "TsneOptions.Perplexity must be positive.");
        if (Iterations < 1)
            throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "TsneOptions.Iterations must be at least 1.");
        if (LearningRate is { } lr && (!(lr > 0) || !double.IsFinite(lr)))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), lr, "TsneOptions.LearningRate must be positive.");
        if (!(EarlyExaggeration >= 1) || !double.IsFinite(EarlyExaggeration))
            throw new ArgumentOutOfRangeException(nameof(EarlyExaggeration), EarlyExaggeration, "TsneOptions.EarlyExaggeration must be at least 1.");
        if (ExaggerationIterations < 0)
            throw new ArgumentOutOfRangeException(nameof(ExaggerationIterations), ExaggerationIterations, "TsneOptions.ExaggerationIterations cannot be negative.");
        if (PcaDimensions is < 1)
            throw new ArgumentOutOfRangeException(nameof(PcaDimensions), PcaDimensions, "TsneOptions.PcaDimensions must be at least 1.");
        if (!Enum.IsDefined(Initialization))
            throw new ArgumentOutOfRangeException(nameof(Initialization), Initialization, "TsneOptions.Initialization is not a defined value.");
    }
}
