using FashionVision.IO;
using FashionVision.Training;
using static TorchSharp.torch;

namespace FashionVision.Visualization;

/// <summary>
/// Images for TensorBoard: confusion matrices and labelled image grids rendered by this package and written into a
/// <see cref="TensorBoardEventWriter"/> (the core writes scalars but carries no image encoder).
/// </summary>
public static class TensorBoardImages
{
    /// <summary>The size of confusion matrices in TensorBoard (smaller than the report's, to keep event files small).</summary>
    public static ConfusionMatrixOptions DefaultConfusionMatrixOptions { get; } = new(Width: 640, Height: 560);

    /// <summary>Adds a confusion-matrix heatmap (see <see cref="ConfusionMatrixChart"/>).</summary>
    /// <param name="writer">The event file.</param>
    /// <param name="tag">The image series name, e.g. <c>confusion_matrix/validation</c>.</param>
    /// <param name="matrix">Counts K×K, rows = true class, columns = predicted class.</param>
    /// <param name="classNames">K class names.</param>
    /// <param name="step">The x coordinate.</param>
    /// <param name="options">Size, title, normalisation; null for <see cref="DefaultConfusionMatrixOptions"/>.</param>
    public static void AddConfusionMatrix(this TensorBoardEventWriter writer, string tag, long[,] matrix, IReadOnlyList<string> classNames, long step,
        ConfusionMatrixOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.AddPng(tag, ConfusionMatrixChart.RenderPng(matrix, classNames, options ?? DefaultConfusionMatrixOptions), step);
    }

    /// <summary>Adds a grid of images with optional captions (see <see cref="ImageGrid"/>).</summary>
    /// <param name="writer">The event file.</param>
    /// <param name="tag">The image series name, e.g. <c>samples/train</c>.</param>
    /// <param name="images">Images N×C×H×W, C = 1 or 3, float in [0, 1] or uint8.</param>
    /// <param name="step">The x coordinate.</param>
    /// <param name="captions">One caption per image, or null.</param>
    /// <param name="options">Layout; null for the defaults.</param>
    public static void AddImageGrid(this TensorBoardEventWriter writer, string tag, Tensor images, long step,
        IReadOnlyList<ImageCaption>? captions = null, ImageGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.AddPng(tag, ImageGrid.RenderPng(images, captions, options), step);
    }
}

/// <summary>
/// Adds images to a <see cref="TensorBoardLogger"/>'s run: a grid of training samples per class when training starts
/// (<c>samples/train</c>), and the validation confusion matrix after every validation (<c>confusion_matrix/validation</c>),
/// so TensorBoard's step slider shows how the confusions change.
/// </summary>
public sealed class TensorBoardImageLogger : TrainerCallback
{
    /// <summary>The tag of the sample grid.</summary>
    public const string SamplesTag = "samples/train";

    /// <summary>The tag of the validation confusion matrix.</summary>
    public const string ValidationConfusionTag = "confusion_matrix/validation";

    private readonly byte[]? _samples;

    /// <summary>Creates the callback.</summary>
    /// <param name="logger">The TensorBoard logger of the run (also registered as a callback).</param>
    /// <param name="samples">The training set, whose first <paramref name="perClass"/> images of each class make the sample grid; null for no grid.</param>
    /// <param name="perClass">Images per class in the grid (1 to 16).</param>
    public TensorBoardImageLogger(TensorBoardLogger logger, Data.InMemoryDataset? samples = null, int perClass = 4)
    {
        Logger = logger ?? throw new ArgumentNullException(nameof(logger));
        if (perClass is < 1 or > 16)
            throw new ArgumentOutOfRangeException(nameof(perClass), perClass, "Between 1 and 16 images per class.");
        if (samples is not null && samples.Count > 0)
            _samples = RenderSamples(samples, perClass);
    }

    /// <summary>The TensorBoard logger the images go to.</summary>
    public TensorBoardLogger Logger { get; }

    /// <inheritdoc />
    public override void OnFitStart(Trainer trainer)
    {
        if (_samples is not null && trainer.History.ResumedAfterEpoch == 0)
            Logger.Writer.AddPng(SamplesTag, _samples, 0);
    }

    /// <inheritdoc />
    public override void OnValidationEnd(Trainer trainer, ValidationResult result)
    {
        if (result.ConfusionMatrix is { } matrix)
            Logger.Writer.AddConfusionMatrix(ValidationConfusionTag, matrix, trainer.ClassNames, Logger.LastStep,
                WithTitle($"Validation, epoch {result.Epoch} ({result.Accuracy:P1})"));
    }

    private static ConfusionMatrixOptions WithTitle(string title) => TensorBoardImages.DefaultConfusionMatrixOptions with { Title = title };

    /// <summary>A grid with the first images of every class, one class per row, captioned with the class name.</summary>
    private static byte[] RenderSamples(Data.InMemoryDataset samples, int perClass)
    {
        using var scope = NewDisposeScope();
        var labels = samples.Labels.cpu();
        var picks = new List<long>();
        for (int c = 0; c < samples.NumClasses; c++)
        {
            var members = nonzero(labels.eq(c)).flatten();
            picks.AddRange(members.narrow(0, 0, Math.Min(perClass, members.shape[0])).data<long>().ToArray());
        }
        var images = samples.Images.index_select(0, tensor(picks.ToArray()).to(samples.Images.device));
        var labelValues = labels.data<long>();
        var captions = picks.Select(i => new ImageCaption(samples.ClassNames[(int)labelValues[i]])).ToArray();
        return ImageGrid.RenderPng(images, captions, new ImageGridOptions(Columns: perClass, Scale: 2, Title: $"{samples.Name}: first {perClass} of each class"));
    }
}
