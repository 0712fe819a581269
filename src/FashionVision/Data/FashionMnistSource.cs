namespace FashionVision.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 70,000 28×28 grayscale images of Zalando articles in 10 classes,
/// a drop-in replacement for MNIST.
/// </summary>
/// <remarks>On Debian and Ubuntu, <c>apt-get install dataset-fashion-mnist</c> installs the files where this source finds them.</remarks>
public sealed class FashionMnistSource : IdxDatasetSource
{
    /// <summary>The class names, in label order.</summary>
    public static readonly IReadOnlyList<string> Classes = new[]
    {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    };

    /// <summary>
    /// The upper-body garments that Fashion-MNIST models confuse most: T-shirt/top, Pullover, Coat and Shirt (Shirt has the
    /// lowest F1 of the ten classes for every architecture). Evaluation reports show their confusion sub-matrix
    /// (<see cref="Evaluation.EvaluationResult.ConfusionTable"/>).
    /// </summary>
    public static readonly IReadOnlyList<string> UpperBodyClasses = new[] { "T-shirt/top", "Pullover", "Coat", "Shirt" };

    private static readonly IdxDatasetFiles DatasetFiles = new(
        new DatasetFile("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        new DatasetFile("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        new DatasetFile("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        new DatasetFile("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"));

    private static readonly IReadOnlyList<Uri> Mirrors = new[]
    {
        new Uri("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
        new Uri("https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"),
    };

    /// <summary>Creates the source.</summary>
    public FashionMnistSource(DatasetOptions? options = null) : base(options)
    {
    }

    /// <inheritdoc />
    public override string Name => "fashion-mnist";

    /// <inheritdoc />
    public override IReadOnlyList<string> ClassNames => Classes;

    /// <inheritdoc />
    public override IdxDatasetFiles Files => DatasetFiles;

    /// <inheritdoc />
    public override IReadOnlyList<Uri> DefaultMirrors => Mirrors;

    /// <inheritdoc />
    protected override IReadOnlyList<string> SystemFolders => new[] { "/usr/share/datasets/fashion-mnist" };
}
