using FashionVision.Data;
using FashionVision.Imaging;

namespace FashionVision.Cli.Infrastructure;

/// <summary>Turns exceptions into one-line messages and exit codes. Set FASHIONVISION_DEBUG=1 to see stack traces.</summary>
internal static class ErrorReporter
{
    public static bool TryReport(Exception exception, TextWriter error, out int exitCode)
    {
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
            exception = aggregate.InnerExceptions[0];
        if (exception is System.Reflection.TargetInvocationException { InnerException: { } inner })
            exception = inner;

        exitCode = exception switch
        {
            CliException cli => cli.ExitCode,
            OperationCanceledException => CliApp.Failure,
            ArgumentException => CliApp.UsageError,
            FileNotFoundException or DirectoryNotFoundException => CliApp.UsageError,
            _ => CliApp.Failure,
        };
        string message = exception switch
        {
            OperationCanceledException => "cancelled",
            ArgumentException argument => OneLine(WithoutParameterName(argument)),
            CliException or DatasetFormatException or ImageDecodeException or IOException or UnauthorizedAccessException
                or InvalidOperationException or NotSupportedException or FormatException or InvalidDataException => OneLine(exception.Message),
            _ => $"{exception.GetType().Name}: {OneLine(exception.Message)}",
        };
        error.WriteLine($"error: {message}");
        if (Environment.GetEnvironmentVariable("FASHIONVISION_DEBUG") == "1")
            error.WriteLine(exception.ToString());
        return true;
    }

    /// <summary>The message without the " (Parameter 'name')" that .NET appends: the parameter means nothing to a user.</summary>
    private static string WithoutParameterName(ArgumentException exception) =>
        exception.ParamName is { } name ? exception.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : exception.Message;

    private static string OneLine(string text) =>
        string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
