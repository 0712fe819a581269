using System.CommandLine;
using System.Globalization;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Visualization;
using Spectre.Console;
using TorchSharp;

namespace FashionVision.Cli.Commands;

/// <summary><c>fashionvision datasets list|locate|download|verify|inspect</c>: where the data is, getting it, checking it, looking at it.</summary>
internal static class DatasetsCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("datasets", "List, locate, download, verify and inspect datasets.");
        command.Add(List(context));
        command.Add(Locate(context));
        command.Add(Download(context));
        command.Add(Verify(context));
        command.Add(Inspect(context));
        return command;
    }

    /// <summary>The most classes drawn in an inspection grid (one row each).</summary>
    private const int MaxGridClasses = 40;

    private static Command Inspect(CliContext context)
    {
        var path = new Argument<string>("path") { Description = "An image folder (class folders, or train/ and test/ folders of them), a CSV file, or a dataset name" };
        var imageSize = UserData.ImageSizeOption();
        var channels = UserData.ChannelsOption();
        var style = UserData.StyleOption();
        var classes = UserData.ClassesOption();
        var skipBadFiles = UserData.SkipBadFilesOption();
        var dataDir = CommonOptions.DataDirectory();
        var perClass = CommonOptions.Int("--per-class", 8, "Sample images per class in the grid");
        var output = new Option<FileInfo?>("--output", "-o") { Description = "The sample-grid PNG to write (default: <name>-samples.png in the current folder)" };
        var command = new Command("inspect", "Read a dataset (your own folder or CSV file too), print its images per class and split, and write a grid of samples per class.")
        {
            path, imageSize, channels, style, classes, skipBadFiles, dataDir, perClass, output,
        };
        command.SetAction(parse =>
        {
            string target = parse.GetRequiredValue(path);
            var source = InspectedSource(context, parse, target, imageSize, channels, style, classes, skipBadFiles, dataDir);
            var splits = UserData.HasTestSplit(source) ? new[] { DatasetSplit.Train, DatasetSplit.Test } : [DatasetSplit.Train];
            var loaded = new List<DatasetLoadResult>();
            try
            {
                foreach (var split in splits)
                    loaded.Add(source.LoadDetailed(split, context.CancellationToken));
                var first = loaded[0].Dataset;
                var (c, h, w) = first.ImageShape;
                context.Output.WriteLine($"{source.Name}: {first.NumClasses} classes, {c}×{h}×{w} images; "
                    + string.Join(", ", loaded.Select((l, i) => $"{l.Dataset.Count:N0} {Describe(splits[i], splits.Length)}"
                        + (l.Skipped.Count > 0 ? $" ({l.Skipped.Count} skipped)" : "") + (l.FromCache ? " (from the cache)" : ""))));

                var table = new Table().AddColumn("class").AddColumn(new TableColumn("label").RightAligned());
                foreach (var split in splits)
                    table.AddColumn(new TableColumn(Describe(split, splits.Length)).RightAligned());
                var counts = loaded.Select(l => l.Dataset.ClassCounts()).ToList();
                for (int k = 0; k < first.NumClasses; k++)
                    table.AddRow([Markup.Escape(first.ClassNames[k]), k.ToString(CultureInfo.InvariantCulture), .. counts.Select(n => n[k].ToString("N0", CultureInfo.InvariantCulture))]);
                table.AddRow(["[bold]total[/]", "", .. loaded.Select(l => $"[bold]{l.Dataset.Count:N0}[/]")]);
                context.Console.Write(table);

                string grid = parse.GetValue(output)?.FullName ?? Path.GetFullPath($"{source.Name}-samples.png");
                SaveSampleGrid(first, grid, parse.GetValue(perClass), $"{source.Name}: {parse.GetValue(perClass)} samples per class");
                context.Output.WriteLine($"sample grid: {grid}" + (first.NumClasses > MaxGridClasses ? $" (the first {MaxGridClasses} classes)" : ""));
            }
            finally
            {
                foreach (var l in loaded)
                    l.Dataset.Dispose();
            }
            return CliApp.Success;
        });
        return command;
    }

    private static string Describe(DatasetSplit split, int splitCount) => splitCount == 1 ? "images" : split.ToString().ToLowerInvariant();

    private static IDatasetSource InspectedSource(CliContext context, ParseResult parse, string target, Option<string> imageSize, Option<int> channels,
        Option<string> style, Option<string?> classes, Option<bool> skipBadFiles, Option<DirectoryInfo?> dataDir)
    {
        bool folder = Directory.Exists(target);
        if (folder || File.Exists(target))
        {
            var (width, height, resize) = UserData.ParseSize(parse.GetRequiredValue(imageSize))!.Value;
            var settings = new UserDataSettings(folder ? UserData.FolderKind : UserData.CsvKind, Path.GetFullPath(target), TestPath: null,
                parse.GetValue(channels), height, width, resize, parse.GetRequiredValue(style), parse.GetValue(classes), parse.GetValue(skipBadFiles), TestSplit: 0);
            return UserData.CreateSource(settings, context);
        }
        if (DatasetCatalog.Names.Contains(target, StringComparer.OrdinalIgnoreCase))
            return DatasetCatalog.Create(target, CommonOptions.DatasetOptions(parse.GetValue(dataDir)));
        throw new CliException($"no such folder, file or dataset: '{target}' (datasets: {string.Join(", ", DatasetCatalog.Names)}).");
    }

    /// <summary>One row per class (up to <see cref="MaxGridClasses"/>): its first images, padded with blanks, captioned with the class.</summary>
    private static void SaveSampleGrid(InMemoryDataset dataset, string path, int perClass, string title)
    {
        using var scope = torch.NewDisposeScope();
        var labels = dataset.Labels.cpu().data<long>().ToArray();
        var (c, h, w) = dataset.ImageShape;
        var blank = torch.zeros([1, c, h, w], torch.ScalarType.Byte);
        var rows = new List<torch.Tensor>();
        var captions = new List<ImageCaption>();
        for (int k = 0; k < Math.Min(dataset.NumClasses, MaxGridClasses); k++)
        {
            var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == k).Take(perClass).Select(i => (long)i).ToArray();
            if (members.Length > 0)
                rows.Add(dataset.Images.index_select(0, torch.tensor(members).to(dataset.Images.device)).cpu());
            for (int j = members.Length; j < perClass; j++)
                rows.Add(blank);
            captions.AddRange(Enumerable.Range(0, perClass).Select(j => new ImageCaption(j < members.Length ? dataset.ClassNames[k] : "")));
        }
        ImageGrid.SavePng(torch.cat(rows, 0), path, captions, new ImageGridOptions(Columns: perClass, Scale: Math.Max(1, 112 / Math.Max(h, w)), Title: title));
    }

    private static Command List(CliContext context)
    {
        var dataDir = CommonOptions.DataDirectory();
        var command = new Command("list", "List the datasets, their classes and where their files are.") { dataDir };
        command.SetAction(parse =>
        {
            var options = CommonOptions.DatasetOptions(parse.GetValue(dataDir), allowDownload: false);
            var table = new Table().AddColumn("dataset").AddColumn("classes").AddColumn("location");
            foreach (var name in DatasetCatalog.Names)
            {
                var source = Idx(DatasetCatalog.Create(name, options));
                string location = source.Locate() ?? "not found (downloaded on first use, or: fashionvision datasets download " + name + ")";
                table.AddRow(Markup.Escape(name), Markup.Escape(string.Join(", ", source.ClassNames)), Markup.Escape(location));
            }
            context.Console.Write(table);
            return CliApp.Success;
        });
        return command;
    }

    private static Command Locate(CliContext context)
    {
        var dataset = CommonOptions.DatasetArgument();
        var dataDir = CommonOptions.DataDirectory();
        var command = new Command("locate", "Print the folder that holds the dataset's files; fail (exit 1) if none does.") { dataset, dataDir };
        command.SetAction(parse =>
        {
            var source = Idx(DatasetCatalog.Create(parse.GetRequiredValue(dataset), CommonOptions.DatasetOptions(parse.GetValue(dataDir), allowDownload: false)));
            var folder = source.Locate();
            if (folder is null)
            {
                context.Error.WriteLine($"error: {source.Name} not found; searched {string.Join(", ", source.SearchFolders())}. Run: fashionvision datasets download {source.Name}");
                return CliApp.Failure;
            }
            context.Output.WriteLine(folder);
            return CliApp.Success;
        });
        return command;
    }

    private static Command Download(CliContext context)
    {
        var dataset = CommonOptions.DatasetArgument();
        var cacheDir = CommonOptions.CacheDirectory();
        var command = new Command("download", "Download the dataset into the cache (checksums verified; nothing partial is ever left behind).") { dataset, cacheDir };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, context.CancellationToken);
            var reporter = new DownloadReporter(context);
            var options = CommonOptions.DatasetOptions(null, parse.GetValue(cacheDir)) with { Progress = reporter, SearchSystemFolders = false };
            var source = Idx(DatasetCatalog.Create(parse.GetRequiredValue(dataset), options));
            await source.DownloadAsync(linked.Token).ConfigureAwait(false);
            context.Output.WriteLine($"{source.Name}: {Path.Combine(options.CacheDirectory, source.Name)}");
            return CliApp.Success;
        });
        return command;
    }

    private static Command Verify(CliContext context)
    {
        var dataset = CommonOptions.DatasetArgument();
        var dataDir = CommonOptions.DataDirectory();
        var command = new Command("verify", "Check the located files against their known checksums (exit 1 on a mismatch).") { dataset, dataDir };
        command.SetAction(parse =>
        {
            var source = Idx(DatasetCatalog.Create(parse.GetRequiredValue(dataset), CommonOptions.DatasetOptions(parse.GetValue(dataDir), allowDownload: false)));
            var results = source.Verify();
            var table = new Table().AddColumn("file").AddColumn("sha-256 of the content");
            foreach (var (path, intact) in results)
                table.AddRow(Markup.Escape(path), intact ? "ok" : "MISMATCH");
            context.Console.Write(table);
            int bad = results.Count(r => !r.Intact);
            if (bad > 0)
            {
                context.Error.WriteLine($"error: {bad} of {results.Count} {source.Name} files do not match their checksums; delete them and run: fashionvision datasets download {source.Name}");
                return CliApp.Failure;
            }
            context.Output.WriteLine($"{source.Name}: all {results.Count} files intact");
            return CliApp.Success;
        });
        return command;
    }

    private static IdxDatasetSource Idx(IDatasetSource source) => source as IdxDatasetSource
        ?? throw new CliException($"dataset {source.Name} is not file-based; locate, download and verify do not apply", CliApp.Failure);

    /// <summary>Prints one line per file as it downloads (throttled), so the progress is visible in logs as well as terminals.</summary>
    private sealed class DownloadReporter(CliContext context) : IProgress<DownloadProgress>
    {
        private readonly object _gate = new();
        private string? _file;
        private int _lastPercent = -1;

        public void Report(DownloadProgress value)
        {
            lock (_gate)
            {
                if (value.FileName != _file)
                {
                    _file = value.FileName;
                    _lastPercent = -1;
                }
                int percent = value.TotalBytes is > 0 ? (int)(100 * value.BytesReceived / value.TotalBytes.Value) : -1;
                if (percent >= 0 && percent / 25 == _lastPercent / 25 && percent != 100)
                    return;
                _lastPercent = percent;
                string size = value.TotalBytes is { } total ? $"{value.BytesReceived / 1e6:0.0}/{total / 1e6:0.0} MB" : $"{value.BytesReceived / 1e6:0.0} MB";
                context.Error.WriteLine($"  {value.FileName}: {size}");
            }
        }
    }
}
