using FashionVision.Training;
using Spectre.Console;

namespace FashionVision.Cli.Infrastructure;

/// <summary>Per-epoch lines (always, so logs show them) and, on a terminal, a live status of the current epoch.</summary>
internal sealed class TrainingReporter(CliContext context) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value)
    {
        if (value is { EpochCompleted: true, Metrics: { } m })
        {
            string validation = m.ValidationAccuracy is { } va ? $", validation accuracy {va:P2}" : "";
            context.Output.WriteLine($"epoch {m.Epoch}/{value.TotalEpochs}: loss {m.TrainLoss:0.0000}, accuracy {m.TrainAccuracy:P2}{validation}, lr {m.LearningRate:0.######}, {m.Elapsed.TotalSeconds:0.0}s");
        }
        else if (context.IsInteractive)
        {
            context.Console.Markup($"\r[grey]epoch {value.Epoch}/{value.TotalEpochs} batch {value.Batch}/{value.BatchesPerEpoch} loss {value.Loss:0.0000} ({value.Fraction:P0})[/]   ");
            if (value.Batch == value.BatchesPerEpoch)
                context.Console.Markup("\r" + new string(' ', 80) + "\r");
        }
    }
}
