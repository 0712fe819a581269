using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FashionVision.AspNetCore.Tests;

/// <summary>A logger provider that keeps every entry, to check what a server logged (Kestrel's own errors included).</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => _entries.ToArray();

    /// <summary>Entries at <paramref name="level"/> or above, or carrying an exception, as lines for an assertion message.</summary>
    /// <param name="level">The lowest level kept.</param>
    /// <param name="skip">How many of the first entries to leave out (those logged before the part under test).</param>
    public IReadOnlyList<string> AtLeast(LogLevel level, int skip = 0) =>
        Entries.Skip(skip).Where(e => e.Level >= level || e.Exception is not null).Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception?.GetType().Name} {e.Exception?.Message}").ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    internal sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception);

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception));
    }
}
