using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Records every training batch's loss and learning rate (<see cref="StepMetrics"/>), for curves finer than one point per
/// epoch: a one-epoch run still draws a real loss curve. The records are stored in checkpoints, so a resumed run's
/// history starts with the batches before the checkpoint.
/// </summary>
/// <example>
/// <code>
/// var steps = new StepHistory();
/// using var trainer = new Trainer(model, options with { Callbacks = [steps] });
/// trainer.Fit(train, validation);
/// double[] smoothed = steps.SmoothedLoss();
/// </code>
/// </example>
public sealed class StepHistory : TrainerCallback
{
    /// <summary>The largest smoothing weight <see cref="SmoothingFor"/> picks: each point keeps 90% of the running average.</summary>
    public const double DefaultSmoothing = 0.9;

    private const string StateName = "steps";
    private readonly List<StepMetrics> _steps = new();
    private bool _loaded;

    /// <summary>Every batch trained so far, in order (a resumed run includes the batches before the checkpoint).</summary>
    public IReadOnlyList<StepMetrics> Steps => _steps;

    /// <summary>
    /// The debiased exponential moving average TensorBoard's smoothing slider draws: a running average that keeps
    /// <paramref name="weight"/> of the previous value, divided by (1 − weight^n) so the first points are not pulled
    /// towards zero. Non-finite values are skipped (the previous smoothed value is repeated).
    /// </summary>
    /// <param name="values">The raw series.</param>
    /// <param name="weight">In [0, 1): 0 returns the series unchanged, values near 1 smooth more.</param>
    /// <returns>One smoothed value per input value (NaN before the first finite one).</returns>
    public static double[] Smooth(IReadOnlyList<double> values, double weight = DefaultSmoothing)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!(weight >= 0 && weight < 1))
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "The smoothing weight must be in [0, 1).");
        var smoothed = new double[values.Count];
        double average = 0, bias = 1, last = double.NaN;
        for (int i = 0; i < values.Count; i++)
        {
            if (double.IsFinite(values[i]))
            {
                average = weight * average + (1 - weight) * values[i];
                bias *= weight;
                last = average / (1 - bias);
            }
            smoothed[i] = last;
        }
        return smoothed;
    }

    /// <summary>
    /// A smoothing weight that suits a series of <paramref name="count"/> points: an averaging window of about a twentieth of
    /// the series (weight 1 − 20/count), at most <see cref="DefaultSmoothing"/>. Short runs are smoothed less, so the curve
    /// does not lag far behind the batches it summarises.
    /// </summary>
    public static double SmoothingFor(int count) => Math.Clamp(1 - 20.0 / Math.Max(1, count), 0, DefaultSmoothing);

    /// <summary>The smoothed training loss of <see cref="Steps"/> (see <see cref="Smooth"/>), with <see cref="SmoothingFor"/> the step count unless a weight is given.</summary>
    public double[] SmoothedLoss(double? weight = null) => Smooth(_steps.Select(s => s.Loss).ToArray(), weight ?? SmoothingFor(_steps.Count));

    /// <inheritdoc />
    public override void OnFitStart(Trainer trainer)
    {
        // A fresh run starts an empty history; a resumed one keeps what the checkpoint brought.
        if (!_loaded)
            _steps.Clear();
        _loaded = false;
    }

    /// <inheritdoc />
    public override void OnBatchEnd(Trainer trainer, BatchEndEventArgs batch) =>
        _steps.Add(new StepMetrics(batch.Epoch, batch.Batch, batch.GlobalStep,
            batch.Epoch - 1 + batch.Batch / (double)Math.Max(1, batch.BatchesPerEpoch), batch.Loss, batch.LearningRate));

    /// <inheritdoc />
    public override void OnSaveCheckpoint(Trainer trainer, CallbackState state)
    {
        if (_steps.Count == 0)
            return;
        var rows = new double[_steps.Count * 6];
        for (int i = 0; i < _steps.Count; i++)
        {
            var s = _steps[i];
            rows[6 * i] = s.Epoch;
            rows[6 * i + 1] = s.Batch;
            rows[6 * i + 2] = s.GlobalStep;
            rows[6 * i + 3] = s.EpochProgress;
            rows[6 * i + 4] = s.Loss;
            rows[6 * i + 5] = s.LearningRate;
        }
        using var table = tensor(rows, new long[] { _steps.Count, 6 });
        state.SetTensors(StateName, new Dictionary<string, Tensor> { [StateName] = table });
    }

    /// <inheritdoc />
    public override void OnLoadCheckpoint(Trainer trainer, CallbackState state)
    {
        _steps.Clear();
        _loaded = true;
        var tensors = state.GetTensors(StateName);
        if (tensors is null)
            return;
        try
        {
            if (!tensors.TryGetValue(StateName, out var table) || table.dim() != 2 || table.shape[1] != 6)
                throw new InvalidDataException($"The checkpoint's {nameof(StepHistory)} state is not a table of 6 columns.");
            using var doubles = table.to_type(ScalarType.Float64);
            var rows = doubles.data<double>().ToArray();
            for (int i = 0; i + 5 < rows.Length; i += 6)
                _steps.Add(new StepMetrics((int)rows[i], (int)rows[i + 1], (long)rows[i + 2], rows[i + 3], rows[i + 4], rows[i + 5]));
        }
        finally
        {
            foreach (var t in tensors.Values)
                t.Dispose();
        }
    }
}
