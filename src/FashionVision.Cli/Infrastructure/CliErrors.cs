using System.Text.RegularExpressions;

namespace FashionVision.Cli.Infrastructure;

/// <summary>How an exception's message becomes the CLI's one line.</summary>
internal static partial class CliErrors
{
    /// <summary>The message without the " (Parameter 'x')" that <see cref="ArgumentException.Message"/> appends, on one line.</summary>
    public static string Message(Exception e)
    {
        string message = e is ArgumentException { ParamName: { } name } argument
            ? argument.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
            : e.Message;
        return LineBreaks().Replace(message, " ").Trim();
    }

    [GeneratedRegex(@"\s*[\r\n]+\s*")]
    private static partial Regex LineBreaks();
}
