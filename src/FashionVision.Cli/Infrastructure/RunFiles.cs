using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FashionVision.Cli.Commands;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.IO;
using FashionVision.Models;
using FashionVision.Training;
using FashionVision.Visualization;
using static TorchSharp.torch;

namespace FashionVision.Cli.Infrastructure;

/// <summary>Writes a training run's folder: metrics.json, the PNG plots, the grid of mistakes and report.md (each atomically).</summary>
internal static class RunFiles
{
    public const string LastCheckpointFile = "last.ckpt";
    public const string MetricsFile = "metrics.json";
    public const string CurvesFile = "training-curves.png";
    public const string ConfusionFile = "confusion-matrix.png";
    public const string F1File = "per-class-f1.png";
    public const string MistakesFile = "misclassified.png";
    public const string ReportFile = "report.md";
    public const string GradientFlowFile = "gradient-flow.png";
    public const string DeadReluFile = "dead-relu.png";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>Writes every file and returns their names, in the order report.md presents them.</summary>
    public static IReadOnlyList<string> Write(string folder, RunSpec settings, ModelInfo model, InMemoryDataset train, InMemoryDataset? validation,
        InMemoryDataset test, RunOutcome run)
    {
        var (history, evaluation, diagnostics) = (run.History, run.Evaluation, run.Diagnostics);
        string? checkpointName = run.Checkpoint is null ? null : Path.GetRelativePath(folder, run.Checkpoint);
        string? bestName = run.BestCheckpoint is null ? null : Path.GetRelativePath(folder, run.BestCheckpoint);
        var written = new[] { LastCheckpointFile, bestName, checkpointName }.OfType<string>()
            .Where(name => File.Exists(Path.Combine(folder, name))).Distinct().ToList();

        WriteMetrics(Path.Combine(folder, MetricsFile), settings, model, train, validation, test, run, checkpointName, bestName);
        written.Add(MetricsFile);

        if (history.Epochs.Count > 0)
        {
            TrainingCurves.SavePng(history.Epochs, run.Steps, Path.Combine(folder, CurvesFile), new ChartOptions(1500, 450, $"{settings.Model.Name} on {settings.Data.Dataset}"));
            written.Add(CurvesFile);
        }
        ConfusionMatrixChart.SavePng(evaluation.ConfusionMatrix, evaluation.ClassNames, Path.Combine(folder, ConfusionFile),
            new ConfusionMatrixOptions(Title: $"Confusion matrix ({evaluation.Count:N0} test images)"));
        written.Add(ConfusionFile);
        PerClassF1Chart.SavePng(evaluation.ClassNames, evaluation.PerClass.Select(c => c.F1).ToArray(), Path.Combine(folder, F1File),
            new ChartOptions(Title: "Per-class F1 on the test set"));
        written.Add(F1File);
        if (SaveMistakes(Path.Combine(folder, MistakesFile), test, evaluation))
            written.Add(MistakesFile);
        if (diagnostics?.GradientFlow.History is { Count: > 0 } gradients && gradients[0].Layers.Count > 0)
        {
            GradientFlowChart.SavePng(gradients, Path.Combine(folder, GradientFlowFile), new ChartOptions(1200, 600, $"Gradient flow: {settings.Model.Name}"));
            written.Add(GradientFlowFile);
        }
        if (diagnostics?.DeadRelu.History is { Count: > 0 } relus && relus[^1].Sites.Count > 0)
        {
            DeadReluChart.SavePng(relus, Path.Combine(folder, DeadReluFile));
            written.Add(DeadReluFile);
        }

        WriteReport(Path.Combine(folder, ReportFile), settings, model, train, validation, run, checkpointName, written);
        written.Add(ReportFile);
        return written;
    }

    private static bool SaveMistakes(string path, InMemoryDataset test, EvaluationResult evaluation)
    {
        if (RenderMistakes(test, evaluation) is not { } png)
            return false;
        AtomicFile.WriteAllBytes(path, png);
        return true;
    }

    /// <summary>The grid of the most confident test mistakes as PNG bytes, or null when there are none.</summary>
    public static byte[]? RenderMistakes(InMemoryDataset test, EvaluationResult evaluation)
    {
        if (evaluation.Mistakes.Count == 0)
            return null;
        using var scope = NewDisposeScope();
        var indices = tensor(evaluation.Mistakes.Select(m => m.Index).ToArray());
        var images = test.Images.index_select(0, indices.to(test.Images.device));
        var truth = tensor(evaluation.Mistakes.Select(m => (long)m.TrueClass).ToArray());
        var predicted = tensor(evaluation.Mistakes.Select(m => (long)m.PredictedClass).ToArray());
        var confidence = tensor(evaluation.Mistakes.Select(m => m.Confidence).ToArray());
        return MistakeGrid.RenderPng(images, truth, predicted, evaluation.ClassNames, confidence, maxImages: 36);
    }

    private static void WriteMetrics(string path, RunSpec settings, ModelInfo model, InMemoryDataset train, InMemoryDataset? validation,
        InMemoryDataset test, RunOutcome run, string? checkpoint, string? bestCheckpoint)
    {
        var (history, evaluation, diagnostics) = (run.History, run.Evaluation, run.Diagnostics);
        int classes = evaluation.ClassNames.Count;
        double smoothing = StepHistory.SmoothingFor(run.Steps.Count);
        var smoothed = StepHistory.Smooth(run.Steps.Select(s => s.Loss).ToArray(), smoothing);
        static double? Finite(double value) => double.IsFinite(value) ? value : null;
        var confusion = evaluation.ConfusionMatrix;
        var metrics = new
        {
            format = "fashionvision-run",
            version = 1,
            createdUtc = DateTime.UtcNow,
            spec = JsonSerializer.SerializeToNode(settings, RunSpec.Json),
            run = new
            {
                device = run.Device,
                threads = run.Threads,
                precision = run.Precision.ToString().ToLowerInvariant(),
                precisionReason = run.PrecisionReason,
            },
            dataset = new { name = settings.Data.Dataset, trainImages = train.Count, validationImages = validation?.Count ?? 0, testImages = test.Count, classNames = evaluation.ClassNames },
            model = new { name = model.Name, model.Summary, parameters = model.ParameterCount, flopsPerImage = model.FlopsPerImage, input = model.InputShape },
            history = history.Epochs.Select(e => new
            {
                epoch = e.Epoch,
                trainLoss = e.TrainLoss,
                trainAccuracy = e.TrainAccuracy,
                validationLoss = e.ValidationLoss,
                validationAccuracy = e.ValidationAccuracy,
                learningRate = e.LearningRate,
                seconds = e.Elapsed.TotalSeconds,
            }),
            bestEpoch = history.BestEpoch,
            stopReason = history.StopReason,
            warnings = run.Warnings,
            // Every training batch, column by column: the position on the epoch axis, the optimizer step, the batch loss,
            // its debiased exponential moving average (with the weight given) and the learning rate.
            steps = new
            {
                smoothing,
                epoch = run.Steps.Select(s => s.EpochProgress),
                step = run.Steps.Select(s => s.GlobalStep),
                loss = run.Steps.Select(s => Finite(s.Loss)),
                smoothedLoss = smoothed.Select(Finite),
                learningRate = run.Steps.Select(s => s.LearningRate),
            },
            test = new
            {
                accuracy = evaluation.Accuracy,
                loss = evaluation.Loss,
                topK = evaluation.TopKAccuracy.OrderBy(kv => kv.Key).ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
                macro = evaluation.MacroAverage,
                weighted = evaluation.WeightedAverage,
                perClass = evaluation.PerClass.Select(c => new { @class = c.ClassName, index = c.ClassIndex, precision = c.Precision, recall = c.Recall, f1 = c.F1, support = c.Support }),
                confusionMatrix = Enumerable.Range(0, classes).Select(i => Enumerable.Range(0, classes).Select(j => confusion[i, j]).ToArray()).ToArray(),
                mostConfusedPairs = evaluation.MostConfusedPairs(5).Select(p => new { @true = evaluation.ClassNames[p.TrueClass], predicted = evaluation.ClassNames[p.PredictedClass], count = p.Count }),
            },
            diagnostics = diagnostics is null ? null : new
            {
                interval = new { gradientSteps = diagnostics.GradientFlow.Interval, reluBatches = diagnostics.DeadRelu.Interval },
                gradientFlow = diagnostics.GradientFlow.History,
                deadRelu = diagnostics.DeadRelu.History,
            },
            wallTimeSeconds = run.WallTime.TotalSeconds,
            checkpoint,
            bestCheckpoint,
        };
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(metrics, Json));
    }

    private static void WriteReport(string path, RunSpec settings, ModelInfo model, InMemoryDataset train, InMemoryDataset? validation,
        RunOutcome run, string? checkpoint, IReadOnlyList<string> files)
    {
        var (history, evaluation, wallTime, diagnostics) = (run.History, run.Evaluation, run.WallTime, run.Diagnostics);
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        var training = settings.Training;
        md.AppendLine(inv, $"# {settings.Model.Name} on {settings.Data.Dataset}");
        md.AppendLine();
        string heldOut = validation is null ? "" : $" ({validation.Count:N0} more held out for validation)";
        md.AppendLine(inv, $"Test accuracy **{evaluation.Accuracy * 100:0.00}%** on {evaluation.Count:N0} test images after {history.Epochs.Count} epoch(s) on {train.Count:N0} training images{heldOut}, in {wallTime.TotalSeconds:0.0} s of wall time.");
        md.AppendLine();
        if (settings.Recipe is { } recipe)
            md.AppendLine(inv, $"- recipe: `{recipe}` (docs/recipes.md)");
        md.AppendLine(inv, $"- model: `{model.Name}`, {model.ParameterCount:N0} parameters, {model.FlopsPerImage / 1e6:0.0} MFLOPs per image, input {model.InputShape}");
        md.AppendLine(inv, $"- optimizer `{training.Optimizer.Kind}` (lr {training.Optimizer.LearningRate.ToString(inv)}, weight decay {training.Optimizer.WeightDecay.ToString(inv)}), scheduler `{training.Scheduler.Kind}`, loss `{training.Loss.Kind}` (label smoothing {training.Loss.LabelSmoothing.ToString(inv)}), augmentation `{training.Augmentation}`");
        if (training.Distillation is { } distillation)
            md.AppendLine(inv, $"- distilled from `{distillation.Teacher}` at temperature {distillation.Temperature.ToString(inv)}, alpha {distillation.Alpha.ToString(inv)} (the teacher's term; cross-entropy takes the rest)");
        md.AppendLine(inv, $"- batch size {training.BatchSize}, seed {training.Seed}, device `{run.Device}`, {run.Threads} thread(s), precision {run.Precision.ToString().ToLowerInvariant()}{(run.PrecisionReason is { } why ? $" ({why})" : "")}");
        md.AppendLine(inv, $"- the whole run: [`{RunSpec.FileName}`]({RunSpec.FileName}) (replay it with `fashionvision train --spec {RunSpec.FileName}`)");
        if (checkpoint is not null)
            md.AppendLine(inv, $"- checkpoint: `{checkpoint}`");
        if (history.BestEpoch is { } bestEpoch)
            md.AppendLine(inv, $"- best validation epoch: {bestEpoch} (`best.ckpt`)");
        if (history.StopReason is { } reason)
            md.AppendLine(inv, $"- stopped: {reason}");
        foreach (var warning in run.Warnings)
            md.AppendLine(inv, $"- warning: {warning}");
        md.AppendLine(inv, $"- all numbers: [`{MetricsFile}`]({MetricsFile})");
        md.AppendLine();

        md.AppendLine("## Training");
        md.AppendLine();
        md.AppendLine("| epoch | train loss | train accuracy | validation loss | validation accuracy | learning rate | seconds |");
        md.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var e in history.Epochs)
            md.AppendLine(inv, $"| {e.Epoch} | {e.TrainLoss:0.0000} | {e.TrainAccuracy * 100:0.00}% | {e.ValidationLoss?.ToString("0.0000", inv) ?? "–"} | {(e.ValidationAccuracy is { } va ? (va * 100).ToString("0.00", inv) + "%" : "–")} | {e.LearningRate:0.######} | {e.Elapsed.TotalSeconds:0.0} |");
        md.AppendLine();
        if (files.Contains(CurvesFile))
            md.AppendLine(inv, $"![training curves]({CurvesFile})").AppendLine();
        if (diagnostics is not null)
            WriteDiagnostics(md, diagnostics, files);

        md.AppendLine("## Test set");
        md.AppendLine();
        md.AppendLine("```");
        md.AppendLine(evaluation.ToReport());
        md.AppendLine("```");
        md.AppendLine();
        if (FashionMnistSource.UpperBodyClasses.All(evaluation.ClassNames.Contains))
        {
            md.AppendLine("Confusion among the upper-body garments (rows: true class):").AppendLine();
            md.AppendLine("```");
            md.Append(evaluation.ConfusionTable(FashionMnistSource.UpperBodyClasses));
            md.AppendLine("```");
            md.AppendLine();
        }
        md.AppendLine(inv, $"![confusion matrix]({ConfusionFile})").AppendLine();
        md.AppendLine(inv, $"![per-class F1]({F1File})").AppendLine();
        var pairs = evaluation.MostConfusedPairs(5).Where(p => p.Count > 0).ToList();
        if (pairs.Count > 0)
        {
            md.AppendLine("Most confused pairs (true → predicted):").AppendLine();
            foreach (var (t, p, count) in pairs)
                md.AppendLine(inv, $"- {evaluation.ClassNames[t]} → {evaluation.ClassNames[p]}: {count}");
            md.AppendLine();
        }
        if (files.Contains(MistakesFile))
        {
            md.AppendLine("## Most confident mistakes");
            md.AppendLine();
            md.AppendLine(inv, $"![misclassified test images]({MistakesFile})");
        }
        AtomicFile.WriteAllText(path, md.ToString());
    }

    private static void WriteDiagnostics(StringBuilder md, RunDiagnostics diagnostics, IReadOnlyList<string> files)
    {
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine("## Diagnostics");
        md.AppendLine();
        if (diagnostics.GradientFlow.History is { Count: > 0 } gradients && gradients[^1].Layers.Count > 0)
        {
            var last = gradients[^1];
            var smallest = last.Layers.MinBy(l => l.MeanNorm)!;
            var largest = last.Layers.MaxBy(l => l.MeanNorm)!;
            md.AppendLine(inv, $"- gradient flow, epoch {last.Epoch} ({last.Steps} measured steps, every {diagnostics.GradientFlow.Interval}): {last.Layers.Count} layers, mean L2 norm from {smallest.MeanNorm:G3} (`{smallest.Layer}`) to {largest.MeanNorm:G3} (`{largest.Layer}`); first layer {last.Layers[0].MeanNorm:G3}, last {last.Layers[^1].MeanNorm:G3}");
        }
        if (diagnostics.DeadRelu.History is { Count: > 0 } relus && relus[^1].Sites.Count > 0)
        {
            var last = relus[^1];
            var worst = last.Sites.MaxBy(s => s.DeadFraction)!;
            md.AppendLine(inv, $"- dead ReLUs, epoch {last.Epoch} ({last.Batches} measured batches, every {diagnostics.DeadRelu.Interval}): {last.DeadUnits:N0} of {last.Units:N0} units ({last.DeadFraction * 100:0.0}%) never fired; most in `{worst.Site}` ({worst.DeadFraction * 100:0.0}%)");
        }
        else
        {
            md.AppendLine("- dead ReLUs: the model has no ReLU modules");
        }
        md.AppendLine();
        if (files.Contains(GradientFlowFile))
            md.AppendLine(inv, $"![gradient flow]({GradientFlowFile})").AppendLine();
        if (files.Contains(DeadReluFile))
            md.AppendLine(inv, $"![dead ReLUs]({DeadReluFile})").AppendLine();
    }
}

/// <summary>What a <c>train</c> run produced, for its run folder.</summary>
/// <param name="History">The per-epoch history.</param>
/// <param name="Steps">Every training batch's loss and learning rate.</param>
/// <param name="Warnings">The overfitting warnings of the run.</param>
/// <param name="Evaluation">The test-set evaluation of the final weights.</param>
/// <param name="WallTime">The whole run's wall time.</param>
/// <param name="Checkpoint">The checkpoint holding the evaluated weights (last.ckpt, or best.ckpt when early stopping restored it).</param>
/// <param name="BestCheckpoint">best.ckpt when the run validated, else null.</param>
/// <param name="Diagnostics">The gradient-flow and dead-ReLU monitors of a <c>--diagnostics</c> run, else null.</param>
internal sealed record RunOutcome(TrainingHistory History, IReadOnlyList<StepMetrics> Steps, IReadOnlyList<string> Warnings,
    EvaluationResult Evaluation, TimeSpan WallTime, string? Checkpoint, string? BestCheckpoint, RunDiagnostics? Diagnostics = null)
{
    /// <summary>The device it ran on (cpu, cuda:N).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>The intra-op thread count it trained with.</summary>
    public int Threads { get; init; }

    /// <summary>The precision it trained in (Auto resolved).</summary>
    public ComputePrecision Precision { get; init; }

    /// <summary>Why that precision, or null.</summary>
    public string? PrecisionReason { get; init; }
}
