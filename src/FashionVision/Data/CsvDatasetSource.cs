using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>
/// A dataset held in CSV files, one image a row: Kaggle's Fashion-MNIST and MNIST format (<c>label,pixel1,...,pixel784</c>
/// with a header line) and the headerless variant, for any image size the caller gives (<see cref="CsvDatasetOptions"/>).
/// The files are streamed line by line into one uint8 tensor per split.
/// </summary>
/// <remarks>
/// A bad row (wrong column count, a pixel that is not an integer in 0–255, a label that is not an integer or lies outside the
/// classes) raises a <see cref="DatasetFormatException"/> naming the file and the line, or, with
/// <see cref="CsvDatasetOptions.SkipBadRows"/>, is left out with a logged warning and counted in
/// <see cref="DatasetLoadResult.Skipped"/>.
/// </remarks>
public sealed class CsvDatasetSource : IDatasetSource
{
    private readonly ILogger _logger;
    private IReadOnlyList<string>? _classNames;

    /// <summary>Creates the source.</summary>
    /// <param name="trainFile">The training split's CSV file.</param>
    /// <param name="testFile">The test split's CSV file, or null when there is none.</param>
    /// <param name="options">The layout; null for 28×28 grayscale images with a label column and a detected header.</param>
    public CsvDatasetSource(string trainFile, string? testFile = null, CsvDatasetOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(trainFile);
        Options = options ?? new CsvDatasetOptions();
        Options.Validate(nameof(options));
        TrainFile = trainFile;
        TestFile = testFile;
        _classNames = Options.ClassNames;
        _logger = Options.Logger ?? NullLogger.Instance;
        Name = Options.Name ?? Path.GetFileNameWithoutExtension(trainFile);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The training split's file.</summary>
    public string TrainFile { get; }

    /// <summary>The test split's file, or null.</summary>
    public string? TestFile { get; }

    /// <summary>The layout in force.</summary>
    public CsvDatasetOptions Options { get; }

    /// <summary>
    /// The class names: <see cref="CsvDatasetOptions.ClassNames"/>, or "0", "1", ... up to the largest label in the source's
    /// files (found by reading their first column once).
    /// </summary>
    public IReadOnlyList<string> ClassNames => _classNames ??= DefaultClassNames(null, CancellationToken.None);

    /// <summary>Whether the source has a file for <paramref name="split"/>.</summary>
    public bool HasSplit(DatasetSplit split) => FileFor(split) is not null;

    /// <inheritdoc />
    public InMemoryDataset Load(DatasetSplit split, CancellationToken cancellationToken = default) => LoadDetailed(split, cancellationToken).Dataset;

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The source has no file for <paramref name="split"/>.</exception>
    public DatasetLoadResult LoadDetailed(DatasetSplit split, CancellationToken cancellationToken = default)
    {
        string path = FileFor(split) ?? throw new InvalidOperationException($"{Name} has no {split.ToString().ToLowerInvariant()} file.");
        var rows = CsvImageReader.Read(path, Options, _classNames?.Count, _logger, Name, cancellationToken);
        try
        {
            _classNames ??= DefaultClassNames((path, rows.Labels.DefaultIfEmpty(-1).Max()), cancellationToken);
            return ToResult(path, rows, _classNames, $"{Name}/{split.ToString().ToLowerInvariant()}");
        }
        catch
        {
            rows.Images.Dispose();
            throw;
        }
    }

    /// <summary>Reads one CSV file as a dataset (e.g. a test file to evaluate on).</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">The layout; null for the defaults. Without class names, the classes are "0" up to the largest label in the file.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <exception cref="DatasetFormatException">The file cannot be read, holds no rows, or a row is bad (and bad rows are not skipped).</exception>
    public static DatasetLoadResult ReadFile(string path, CsvDatasetOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CsvDatasetOptions();
        options.Validate(nameof(options));
        string name = options.Name ?? Path.GetFileNameWithoutExtension(path);
        var rows = CsvImageReader.Read(path, options, options.ClassNames?.Count, options.Logger ?? NullLogger.Instance, name, cancellationToken);
        try
        {
            return ToResult(path, rows, options.ClassNames ?? Numbered(rows.Labels.DefaultIfEmpty(0).Max()), name);
        }
        catch
        {
            rows.Images.Dispose();
            throw;
        }
    }

    private static DatasetLoadResult ToResult(string path, CsvImageReader.Rows rows, IReadOnlyList<string> classNames, string name)
    {
        var labels = tensor(rows.Labels, ScalarType.Int64);
        var dataset = new InMemoryDataset(rows.Images, labels, classNames, name);
        var origins = rows.Lines.Select(line => $"{path}:{line.ToString(CultureInfo.InvariantCulture)}").ToArray();
        return new DatasetLoadResult(dataset, rows.Skipped) { Origins = origins };
    }

    private string? FileFor(DatasetSplit split) => split == DatasetSplit.Train ? TrainFile : TestFile;

    /// <summary>"0" … "K−1" for the largest label across the source's files; <paramref name="known"/> spares re-reading a file just parsed.</summary>
    private IReadOnlyList<string> DefaultClassNames((string Path, long MaxLabel)? known, CancellationToken cancellationToken)
    {
        long max = known?.MaxLabel ?? -1;
        foreach (var file in new[] { TrainFile, TestFile })
        {
            if (file is not null && file != known?.Path)
                max = Math.Max(max, CsvImageReader.MaxLabel(file, Options, cancellationToken));
        }
        return Numbered(Math.Max(0, max));
    }

    private static string[] Numbered(long maxLabel) =>
        Enumerable.Range(0, (int)Math.Min(maxLabel + 1, int.MaxValue)).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
}
