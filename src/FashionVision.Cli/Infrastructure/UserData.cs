using FashionVision.Training;
using System.CommandLine;
using System.Globalization;
using FashionVision.Data;
using FashionVision.Imaging;

namespace FashionVision.Cli.Infrastructure;

/// <summary>The user's own data as a command was asked to read it (recorded in metrics.json).</summary>
/// <param name="Kind"><see cref="UserData.FolderKind"/> or <see cref="UserData.CsvKind"/>.</param>
/// <param name="Path">The image folder, or the (training) CSV file.</param>
/// <param name="TestPath">The test CSV file, if any.</param>
/// <param name="Channels">Channels per image (3 reads colour).</param>
/// <param name="Height">Image height.</param>
/// <param name="Width">Image width.</param>
/// <param name="Resize">False: folder images keep their own size, which must be the same for all.</param>
/// <param name="Style">How images are fitted (<see cref="UserData.Styles"/>; folders only).</param>
/// <param name="Classes">CSV class names: a comma-separated list or a dataset name; null for the label numbers.</param>
/// <param name="SkipBadFiles">Leave out unusable files and rows with a warning instead of failing.</param>
/// <param name="TestSplit">The fraction held out as the test set when the data has no test split (train only).</param>
internal sealed record UserDataSettings(string Kind, string Path, string? TestPath, int Channels, int Height, int Width, bool Resize, string Style,
    string? Classes, bool SkipBadFiles, double TestSplit);

/// <summary>
/// Reading the user's own data for a command: the <c>--data</c>/<c>--csv</c> options and their companions, the sources
/// (<see cref="ImageFolderSource"/>, <see cref="CsvDatasetSource"/>) they become, and the train/test split when there is no
/// test set. Bad files fail with a <see cref="DatasetFormatException"/> naming the file (one line, exit code 1) unless
/// <c>--skip-bad-files</c> turns them into warnings.
/// </summary>
internal static class UserData
{
    /// <summary>The settings a run spec's own-data part amounts to.</summary>
    public static UserDataSettings Settings(OwnDataSpec own) => new(
        own.Kind == OwnDataKind.Folder ? FolderKind : CsvKind, own.Path, own.TestPath, own.Channels, own.Height, own.Width, own.Resize, own.Style,
        own.Classes, own.SkipBadFiles, own.TestSplit);

    public const string FolderKind = "folder";
    public const string CsvKind = "csv";
    public const string RawStyle = "raw";

    /// <summary>The <c>--image-size</c> value that keeps folder images at their own size.</summary>
    public const string KeepSize = "keep";

    /// <summary>How image files are fitted into the model's input: as they are, or the way each dataset was made.</summary>
    public static readonly string[] Styles = [RawStyle, "fashion-mnist", "mnist"];

    public static Option<DirectoryInfo?> FolderOption() => Existing(new Option<DirectoryInfo?>("--data")
    {
        Description = "Your own images: a folder with one subfolder per class (folder/<class>/*.png|jpg|bmp|webp), or train/ and test/ folders of those",
    });

    public static Option<FileInfo?> CsvOption(string name, string description) => Existing(new Option<FileInfo?>(name) { Description = description });

    public static Option<string> ImageSizeOption() 
    {
        var option = new Option<string>("--image-size")
        {
            Description = $"Image size of your own data: N for N×N or WIDTHxHEIGHT (folder images are resized to it; CSV rows must hold it), or {KeepSize} (folder images keep their size, which must be the same for all)",
            DefaultValueFactory = _ => "28",
        };
        option.Validators.Add(result =>
        {
            if (ParseSize(result.GetValueOrDefault<string>()) is null)
                result.AddError($"--image-size must be N, WIDTHxHEIGHT (sides from 1 to 4096) or {KeepSize}, not '{result.GetValueOrDefault<string>()}'.");
        });
        return option;
    }

    public static Option<int> ChannelsOption()
    {
        var option = new Option<int>("--channels") { Description = "Channels of your own data: 1 (grayscale) or 3 (colour)", DefaultValueFactory = _ => 1 };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is not (1 or 3))
                result.AddError($"--channels must be 1 or 3, not {result.GetValueOrDefault<int>()}.");
        });
        return option;
    }

    public static Option<string> StyleOption(string defaultValue = RawStyle) =>
        CommonOptions.Named("--style", defaultValue, "How image files are fitted into the input: raw resizes them whole; fashion-mnist and mnist invert dark-on-light images and centre the object", () => Styles, "style");

    public static Option<string?> ClassesOption() => new("--classes")
    {
        Description = "Class names of CSV data, in label order: a comma-separated list or a dataset name (fashion-mnist, mnist); default: the label numbers",
    };

    public static Option<bool> SkipBadFilesOption() => new("--skip-bad-files")
    {
        Description = "Leave out image files and CSV rows that cannot be used (each named in a warning) instead of stopping at the first",
    };

    /// <summary>Parses "28", "32x24" (width × height) or "keep" (resizing off; the size stays 28×28 for the options' sake).</summary>
    public static (int Width, int Height, bool Resize)? ParseSize(string? text)
    {
        if (string.Equals(text, KeepSize, StringComparison.OrdinalIgnoreCase))
            return (28, 28, false);
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var parts = text.Split('x', 'X', '×');
        if (parts.Length is not (1 or 2) || parts.Any(p => !int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int side) || side is < 1 or > 4096))
            return null;
        int width = int.Parse(parts[0], CultureInfo.InvariantCulture);
        return (width, parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : width, true);
    }

    /// <summary>The decoding that a style amounts to, at a size and channel count (three channels read colour).</summary>
    public static ImageDecodeOptions DecodeOptions(string style, int channels, int height, int width)
    {
        var basis = style.ToLowerInvariant() switch
        {
            "mnist" => ImageDecodeOptions.Mnist,
            "fashion-mnist" => ImageDecodeOptions.FashionMnist,
            _ => ImageDecodeOptions.Raw,
        };
        return basis with { Width = width, Height = height, Channels = channels, Color = channels == 3 ? ColorMode.Rgb : ColorMode.Grayscale };
    }

    /// <summary>The source the settings describe; <paramref name="classNames"/> (a checkpoint's) fixes CSV classes.</summary>
    public static IDatasetSource CreateSource(UserDataSettings settings, CliContext context, IReadOnlyList<string>? classNames = null)
    {
        var logger = new CliLogger(context);
        if (settings.Kind == FolderKind)
        {
            return new ImageFolderSource(settings.Path, new ImageFolderOptions
            {
                Decode = DecodeOptions(settings.Style, settings.Channels, settings.Height, settings.Width),
                Resize = settings.Resize,
                SkipBadFiles = settings.SkipBadFiles,
                Logger = logger,
                Progress = new DecodeReporter(context),
            });
        }
        if (!settings.Resize)
            throw new CliException($"--image-size {KeepSize} applies to image folders; give the size of the images in {settings.Path}.");
        return new CsvDatasetSource(settings.Path, settings.TestPath, new CsvDatasetOptions
        {
            Channels = settings.Channels,
            Height = settings.Height,
            Width = settings.Width,
            ClassNames = classNames ?? ParseClasses(settings.Classes),
            SkipBadRows = settings.SkipBadFiles,
            Logger = logger,
        });
    }

    /// <summary>Whether the source has its own test split.</summary>
    public static bool HasTestSplit(IDatasetSource source) => source switch
    {
        ImageFolderSource folder => folder.HasSplit(DatasetSplit.Test),
        CsvDatasetSource csv => csv.HasSplit(DatasetSplit.Test),
        _ => true,
    };

    /// <summary>
    /// Loads the training and test sets: the data's own test split, or else a stratified, seeded hold-out of
    /// <see cref="UserDataSettings.TestSplit"/> of the images. Each is then cut to its maximum, if one is given.
    /// </summary>
    public static (InMemoryDataset Train, InMemoryDataset Test) LoadTrainTest(IDatasetSource source, UserDataSettings settings, int? maxTrain, int? maxTest, long seed, CliContext context)
    {
        if (HasTestSplit(source))
        {
            var train = RunData.Load(source, DatasetSplit.Train, maxTrain);
            try
            {
                return (train, RunData.Load(source, DatasetSplit.Test, maxTest));
            }
            catch
            {
                train.Dispose();
                throw;
            }
        }
        using var all = source.Load(DatasetSplit.Train, context.CancellationToken);
        context.Output.WriteLine($"{source.Name} has no test split: holding out {settings.TestSplit:P0} of its {all.Count:N0} images as the test set (stratified, seed {seed})");
        var (trainPart, testPart) = all.SplitStratified(settings.TestSplit, seed);
        if (trainPart.Count == 0 || testPart.Count == 0)
        {
            string empty = testPart.Count == 0 ? "test" : "training";
            long heldOut = testPart.Count;
            trainPart.Dispose();
            testPart.Dispose();
            throw new CliException($"--test-split {settings.TestSplit} of {all.Count:N0} images leaves the {empty} split empty "
                + $"({heldOut:N0} of {all.Count:N0} images held out, rounded per class); use a larger folder, another --test-split, or a {ImageFolderSource.TrainFolder}/ and {ImageFolderSource.TestFolder}/ layout",
                CliApp.UsageError);
        }
        return (Cut(trainPart, maxTrain), Cut(testPart, maxTest));
    }

    /// <summary>Class names from "a,b,c" or a dataset name; null stays null.</summary>
    public static IReadOnlyList<string>? ParseClasses(string? classes)
    {
        if (string.IsNullOrWhiteSpace(classes))
            return null;
        if (DatasetCatalog.Names.Contains(classes, StringComparer.OrdinalIgnoreCase))
            return DatasetCatalog.Create(classes).ClassNames;
        return classes.Split(',', StringSplitOptions.TrimEntries);
    }

    private static InMemoryDataset Cut(InMemoryDataset dataset, int? max)
    {
        if (max is not { } limit || limit >= dataset.Count)
            return dataset;
        using (dataset)
            return dataset.Take(limit);
    }

    private static Option<T> Existing<T>(Option<T> option) where T : FileSystemInfo?
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<T>() is { Exists: false } item)
                result.AddError($"{option.Name}: no such {(item is DirectoryInfo ? "folder" : "file")} '{item.FullName}'.");
        });
        return option;
    }

    /// <summary>Prints decoding progress every quarter for large sets (on the output, so errors stay one line).</summary>
    private sealed class DecodeReporter(CliContext context) : IProgress<ImageDecodeProgress>
    {
        private readonly object _gate = new();
        private int _total = -1;
        private int _lastQuarter;

        public void Report(ImageDecodeProgress value)
        {
            if (value.Total < 1000)
                return;
            int quarter = 4 * value.Decoded / value.Total;
            lock (_gate)
            {
                if (value.Total != _total)
                    (_total, _lastQuarter) = (value.Total, 0);
                if (quarter <= _lastQuarter)
                    return;
                _lastQuarter = quarter;
                context.Output.WriteLine($"  decoding images: {value.Decoded:N0} of {value.Total:N0}");
            }
        }
    }
}
