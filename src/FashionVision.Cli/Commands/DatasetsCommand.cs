using System.CommandLine;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using Spectre.Console;

namespace FashionVision.Cli.Commands;

/// <summary><c>fashionvision datasets list|locate|download|verify</c>: where the data is, getting it, checking it.</summary>
internal static class DatasetsCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("datasets", "List, locate, download and verify the datasets.");
        command.Add(List(context));
        command.Add(Locate(context));
        command.Add(Download(context));
        command.Add(Verify(context));
        return command;
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
