using System.CommandLine;
using FashionVision.Cli.Commands;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;

namespace FashionVision.Cli;

/// <summary>
/// The <c>fashionvision</c> command line, runnable in-process: parses the arguments, runs the command, and turns every
/// error a user can cause into one line on the error writer and a non-zero exit code (never a stack trace).
/// </summary>
public static class CliApp
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code when the command ran but failed (a corrupt file, a training error, ...).</summary>
    public const int Failure = 1;

    /// <summary>Exit code for invalid arguments (an unknown name, a bad number, a missing file).</summary>
    public const int UsageError = 2;

    /// <summary>Runs the tool with <paramref name="args"/>, writing results to <paramref name="output"/> and errors to <paramref name="error"/>.</summary>
    /// <returns>The process exit code: <see cref="Success"/>, <see cref="Failure"/> or <see cref="UsageError"/>.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error) => Run(args, output, error, CancellationToken.None);

    /// <summary>Runs the tool with <paramref name="args"/>; <paramref name="cancellationToken"/> stops a long command (training, download).</summary>
    /// <returns>The process exit code.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        return Run(args, new CliContext(output, error, cancellationToken));
    }

    /// <summary>Runs the tool in a given context (tests use it to drive an interactive console).</summary>
    internal static int Run(string[] args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(args);
        var (output, error) = (context.Output, context.Error);
        var root = BuildRootCommand(context);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not { ClearsParseErrors: true })
        {
            // One line: the first problem. `--help` shows the full usage.
            error.WriteLine($"error: {parsed.Errors[0].Message}");
            return UsageError;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (ErrorReporter.TryReport(e, error, out int exitCode))
        {
            return exitCode;
        }
    }

    internal static RootCommand BuildRootCommand(CliContext context)
    {
        // torchvision's architectures join the zoo before any command reads its names (--model, models, checkpoints).
        FashionVision.TorchVision.TorchVisionModels.Register();
        var root = new RootCommand("fashionvision: train, evaluate, export and run image classifiers on Fashion-MNIST and MNIST.");
        root.Add(TrainCommand.Create(context));
        root.Add(EvaluateCommand.Create(context));
        root.Add(ExportCommand.Create(context));
        root.Add(PruneCommand.Create(context));
        root.Add(PredictCommand.Create(context));
        root.Add(InspectLabelsCommand.Create(context));
        root.Add(AblateCommand.Create(context));
        root.Add(DatasetsCommand.Create(context));
        root.Add(ModelsCommand.Create(context));
        root.Add(SystemCommand.Create(context));
        return root;
    }

    internal static IReadOnlyList<string> DatasetNames => DatasetCatalog.Names;
}
