namespace FashionVision.Cli.Infrastructure;

/// <summary>An error the user can fix; the CLI prints its message as one line and exits with <see cref="ExitCode"/>.</summary>
internal sealed class CliException : Exception
{
    public CliException(string message, int exitCode = CliApp.UsageError, Exception? innerException = null)
        : base(message, innerException) => ExitCode = exitCode;

    public int ExitCode { get; }
}
