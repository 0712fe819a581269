using System.Diagnostics;
using FashionVision.Training;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace FashionVision.Cli.Infrastructure;

/// <summary>
/// Shows a training run. On an interactive terminal: a live Spectre.Console display with an epoch bar (the whole run, with
/// its estimated remaining time) and a batch bar (the current epoch, with the batch loss and images per second), and a
/// summary line per epoch printed above them. When the output is redirected (CI logs, files, tests): only the per-epoch lines. Library
/// warnings (the overfitting warning, skipped batches) arrive through <see cref="Logger"/> and print as <c>warning:</c> lines.
/// </summary>
internal sealed class TrainingDisplay : IProgress<TrainingProgress>
{
    private readonly CliContext _context;
    private readonly int _batchSize;
    private readonly Stopwatch _epochClock = new();
    private ProgressContext? _live;
    private ProgressTask? _runTask;
    private ProgressTask? _batchTask;
    private int _batchEpoch;

    public TrainingDisplay(CliContext context, int batchSize)
    {
        _context = context;
        _batchSize = batchSize;
        Logger = new WarningLogger(this);
    }

    /// <summary>A logger for the Trainer: warnings are printed, everything else is left to the display.</summary>
    public ILogger Logger { get; }

    /// <summary>Whether the live bars are drawn (an interactive terminal that understands ANSI).</summary>
    public bool IsLive => _context.IsInteractive && _context.Console.Profile.Capabilities.Ansi;

    /// <summary>Runs <paramref name="training"/> under the display: inside the live bars when <see cref="IsLive"/>, plainly otherwise.</summary>
    public T Run<T>(int totalEpochs, Func<T> training)
    {
        if (!IsLive)
            return training();
        return _context.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .Start(live =>
            {
                _live = live;
                _runTask = live.AddTask($"epoch 1/{totalEpochs}", maxValue: Math.Max(1, totalEpochs));
                try
                {
                    return training();
                }
                finally
                {
                    _batchTask?.StopTask();
                    _runTask.StopTask();
                    _live = null;
                }
            });
    }

    public void Report(TrainingProgress value)
    {
        if (value is { EpochCompleted: true, Metrics: { } metrics })
        {
            if (_runTask is not null)
                _runTask.Value = value.Epoch;
            WriteLine(EpochLine(metrics, value.TotalEpochs));
            return;
        }
        if (_live is null || _runTask is null)
            return;
        if (_batchTask is null || _batchEpoch != value.Epoch)
        {
            // One batch bar for the whole run, rewound at every epoch.
            _batchTask ??= _live.AddTask("batch", maxValue: Math.Max(1, value.BatchesPerEpoch));
            _batchTask.MaxValue = Math.Max(1, value.BatchesPerEpoch);
            _batchTask.Value = 0;
            _batchEpoch = value.Epoch;
            _epochClock.Restart();
        }
        double seconds = _epochClock.Elapsed.TotalSeconds;
        double imagesPerSecond = seconds > 0 ? value.Batch * (double)_batchSize / seconds : 0;
        _batchTask.Value = value.Batch;
        _batchTask.Description = $"batch {value.Batch}/{value.BatchesPerEpoch}  loss {value.Loss:0.0000}  {imagesPerSecond:N0} img/s";
        _runTask.Value = value.Fraction * value.TotalEpochs;
        _runTask.Description = $"epoch {value.Epoch}/{value.TotalEpochs}  ETA {Eta(value)}";
    }

    /// <summary>The run's remaining time, extrapolated from the time so far and the fraction done.</summary>
    private static string Eta(TrainingProgress value)
    {
        if (value.Fraction <= 0)
            return "--:--";
        var remaining = TimeSpan.FromSeconds(value.Elapsed.TotalSeconds * (1 - value.Fraction) / value.Fraction);
        return remaining.TotalHours >= 1 ? remaining.ToString(@"h\:mm\:ss") : remaining.ToString(@"mm\:ss");
    }

    /// <summary>Prints a warning: yellow above the live bars, or on the error writer when the output is plain.</summary>
    public void Warn(string message)
    {
        if (IsLive)
            _context.Console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");
        else
            _context.Error.WriteLine($"warning: {message}");
    }

    /// <summary>One epoch as one line: training loss and accuracy, validation when there was one, learning rate, time.</summary>
    public static string EpochLine(EpochMetrics m, int totalEpochs)
    {
        string validation = m.ValidationLoss is { } vl ? $"; validation loss {vl:0.0000}, accuracy {m.ValidationAccuracy:P2}" : "";
        return $"epoch {m.Epoch}/{totalEpochs}: loss {m.TrainLoss:0.0000}, accuracy {m.TrainAccuracy:P2}{validation}; lr {m.LearningRate:0.######}, {m.Elapsed.TotalSeconds:0.0}s";
    }

    private void WriteLine(string line)
    {
        if (IsLive)
            _context.Console.WriteLine(line);
        else
            _context.Output.WriteLine(line);
    }

    /// <summary>Forwards the library's warnings to <see cref="Warn"/>; errors are reported once, by the command's error handling.</summary>
    private sealed class WarningLogger(TrainingDisplay display) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                display.Warn(formatter(state, exception));
        }
    }
}
