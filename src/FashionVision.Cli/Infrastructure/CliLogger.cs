using Microsoft.Extensions.Logging;

namespace FashionVision.Cli.Infrastructure;

/// <summary>Shows the library's warnings (a skipped file, an unusable cache) as "warning: …" lines on the error writer.</summary>
internal sealed class CliLogger(CliContext context) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            lock (context.Error)
                context.Error.WriteLine($"warning: {formatter(state, exception)}");
        }
    }
}
