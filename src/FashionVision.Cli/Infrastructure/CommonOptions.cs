using System.CommandLine;
using System.CommandLine.Parsing;
using FashionVision.Data;
using FashionVision.Inference;
using Data = FashionVision.Data;
using TorchSharp;

namespace FashionVision.Cli.Infrastructure;

/// <summary>
/// The options several commands share, and the validation that turns a bad value into one clear line before anything runs.
/// </summary>
internal static class CommonOptions
{
    public static Option<string> Dataset() => Named("--dataset", "fashion-mnist", "The dataset", () => DatasetCatalog.Names, "dataset", "-d");

    public static Argument<string> DatasetArgument()
    {
        var argument = new Argument<string>("dataset")
        {
            Description = $"The dataset ({string.Join(", ", DatasetCatalog.Names)})",
            DefaultValueFactory = _ => "fashion-mnist",
        };
        argument.Validators.Add(result => RequireKnown(result, result.GetValueOrDefault<string>(), DatasetCatalog.Names, "dataset"));
        return argument;
    }

    public static Option<DirectoryInfo?> DataDirectory() => new("--data-dir")
    {
        Description = $"Folder holding the dataset's IDX files (default: ${Data.DatasetOptions.DataDirectoryVariable}, the user cache, then system folders)",
    };

    public static Option<DirectoryInfo?> CacheDirectory() => new("--cache-dir")
    {
        Description = "Download cache folder (default: the per-user cache)",
    };

    public static Option<string> Device() 
    {
        var option = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        option.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (value is null || !(value == "cpu" || value == "cuda" || (value.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(value.AsSpan(5), out int index) && index >= 0)))
                result.AddError($"--device must be cpu, cuda or cuda:N, not '{value}'.");
        });
        return option;
    }

    /// <summary>
    /// <c>--tta</c>: test-time augmentation as <see cref="TestTimeAugmentation.Parse"/> reads it (<c>flip</c>, <c>shift1</c>,
    /// <c>flip,shift1</c>, ...); a bare <c>--tta</c> means <c>flip</c>. Read it with <see cref="GetTta"/>.
    /// </summary>
    public static Option<string?> Tta()
    {
        var option = new Option<string?>("--tta")
        {
            Description = "Test-time augmentation averaged over views: flip, shiftK (±K-pixel shifts) or both, e.g. flip,shift1 (bare --tta: flip)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        option.Validators.Add(result =>
        {
            try
            {
                if (result.GetValueOrDefault<string?>() is { Length: > 0 } text)
                    TestTimeAugmentation.Parse(text);
            }
            catch (FormatException e)
            {
                result.AddError($"--tta: {e.Message}");
            }
        });
        return option;
    }

    /// <summary>The policy of a <see cref="Tta"/> option: null when absent, <c>flip</c> when given without a value.</summary>
    public static TestTimeAugmentation? GetTta(ParseResult parse, Option<string?> option) =>
        parse.GetResult(option) is null ? null
        : parse.GetValue(option) is { Length: > 0 } text ? TestTimeAugmentation.Parse(text)
        : TestTimeAugmentation.HorizontalFlip;

    /// <summary><c>--ensemble</c>: more checkpoints, comma-separated, whose predictions are averaged with the command's checkpoint.</summary>
    public static Option<string?> Ensemble()
    {
        var option = new Option<string?>("--ensemble")
        {
            Description = "More checkpoints (comma-separated) whose probabilities are averaged with the checkpoint's: an ensemble",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is not { } text)
                return;
            var files = SplitList(text);
            if (files.Length == 0)
                result.AddError("--ensemble needs at least one checkpoint.");
            foreach (var missing in files.Where(f => !File.Exists(f)))
                result.AddError($"--ensemble: no such checkpoint '{Path.GetFullPath(missing)}'.");
        });
        return option;
    }

    /// <summary>The files of an <see cref="Ensemble"/> option (empty when absent).</summary>
    public static FileInfo[] GetEnsemble(ParseResult parse, Option<string?> option) =>
        parse.GetValue(option) is { } text ? SplitList(text).Select(f => new FileInfo(f)).ToArray() : [];

    /// <summary>Splits a comma-separated list, trimming and dropping empty items.</summary>
    public static string[] SplitList(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    public static Option<long> Seed() => new("--seed")
    {
        Description = "Seed for every random choice (the same seed gives the same result on the CPU at the same intra-op thread count: see --threads)",
        DefaultValueFactory = _ => 42,
    };

    /// <summary>An int option that must be ≥ <paramref name="minimum"/>.</summary>
    public static Option<int> Int(string name, int defaultValue, string description, int minimum = 1)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (TryGetValue(result, out int value) && value < minimum)
                result.AddError($"{name} must be at least {minimum}, not {value}.");
        });
        return option;
    }

    /// <summary>An optional int option (absent = null) that must be ≥ <paramref name="minimum"/> when given.</summary>
    public static Option<int?> OptionalInt(string name, string description, int minimum = 1)
    {
        var option = new Option<int?>(name) { Description = description };
        option.Validators.Add(result =>
        {
            if (TryGetValue(result, out int? value) && value is { } v && v < minimum)
                result.AddError($"{name} must be at least {minimum}, not {v}.");
        });
        return option;
    }

    /// <summary>A double option that must be finite and &gt; <paramref name="exclusiveMinimum"/> (or ≥ it when <paramref name="inclusive"/>).</summary>
    public static Option<double> Double(string name, double defaultValue, string description, double exclusiveMinimum = 0, bool inclusive = false, double? maximum = null)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (!TryGetValue(result, out double value))
                return;
            bool tooSmall = inclusive ? value < exclusiveMinimum : value <= exclusiveMinimum;
            if (!double.IsFinite(value) || tooSmall || (maximum is { } max && value > max))
            {
                string range = (inclusive ? $">= {exclusiveMinimum}" : $"> {exclusiveMinimum}") + (maximum is { } m ? $" and <= {m}" : "");
                result.AddError($"{name} must be a finite number {range}, not {value}.");
            }
        });
        return option;
    }

    /// <summary>A string option restricted to the names <paramref name="validNames"/> gives (case-insensitive); an unknown one lists them.</summary>
    public static Option<string> Named(string name, string defaultValue, string description, Func<IReadOnlyList<string>> validNames, string what, params string[] aliases)
    {
        var option = new Option<string>(name, aliases)
        {
            Description = $"{description} ({string.Join(", ", validNames())})",
            DefaultValueFactory = _ => defaultValue,
        };
        option.Validators.Add(result => RequireKnown(result, result.GetValueOrDefault<string>(), validNames(), what));
        return option;
    }

    /// <summary>
    /// Reads an option's value inside a validator. A token that does not convert (e.g. "abc" for an int) makes
    /// GetValueOrDefault throw; the parser already reports that conversion error as one line, so the validator has nothing
    /// to add and returns false.
    /// </summary>
    private static bool TryGetValue<T>(OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    public static void RequireKnown(SymbolResult result, string? value, IReadOnlyList<string> validNames, string what)
    {
        if (value is null || !validNames.Contains(value, StringComparer.OrdinalIgnoreCase))
            result.AddError($"Unknown {what} '{value}'. Valid names: {string.Join(", ", validNames)}.");
    }

    /// <summary>Builds the dataset options from the shared folder options (downloads allowed unless <paramref name="allowDownload"/> is false).</summary>
    public static DatasetOptions DatasetOptions(DirectoryInfo? dataDirectory, DirectoryInfo? cacheDirectory = null, bool allowDownload = true)
    {
        var options = new DatasetOptions { DataDirectory = dataDirectory?.FullName, AllowDownload = allowDownload };
        return cacheDirectory is null ? options : options with { CacheDirectory = cacheDirectory.FullName };
    }

    /// <summary>Turns a validated --device value into a device, failing with one line when CUDA is asked for but absent.</summary>
    public static torch.Device ResolveDevice(string name)
    {
        if (name.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new CliException($"--device {name}: CUDA is not available on this machine (use --device cpu).");
        return new torch.Device(name);
    }
}
