using FashionVision.Training;

namespace FashionVision.Onnx;

/// <summary>
/// Options for <see cref="OnnxQuantizer.QuantizeWithTraining"/>. The defaults calibrate on 512 training images (min/max,
/// uint8 activations, as post-training quantization does) and fine-tune one epoch with AdamW at a learning rate of 1e-4
/// annealed by a per-batch cosine schedule.
/// </summary>
public sealed record QuantizationAwareTrainingOptions
{
    /// <summary>Training images (the first ones of the set) that calibrate the activation ranges before they are frozen (default 512).</summary>
    public int CalibrationImages { get; init; } = 512;

    /// <summary>Calibration method and activation type, as for post-training quantization.</summary>
    public OnnxQuantizationOptions Quantization { get; init; } = new();

    /// <summary>
    /// The fine-tuning run. Its normalization is replaced by the one in the model's metadata (the graph expects it), and it
    /// writes no checkpoints (the result is the INT8 file).
    /// </summary>
    public TrainerOptions Training { get; init; } = new()
    {
        Epochs = 1,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-4, WeightDecay = 0 },
        Scheduler = new SchedulerOptions { Kind = SchedulerKind.Cosine, Interval = SchedulerInterval.Batch },
    };

    /// <summary>Checks the options; the exception's parameter name is the option at fault.</summary>
    public void Validate()
    {
        if (CalibrationImages < 1)
            throw new ArgumentOutOfRangeException(nameof(CalibrationImages), CalibrationImages, "At least one calibration image is needed.");
        ArgumentNullException.ThrowIfNull(Quantization, nameof(Quantization));
        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Quantization.Validate();
        Training.Validate();
    }
}

/// <summary>What <see cref="OnnxQuantizer.QuantizeWithTraining"/> did.</summary>
/// <param name="Quantization">The INT8 model written (sizes, quantized tensors, calibration images).</param>
/// <param name="History">The fine-tuning run, epoch by epoch.</param>
public sealed record QuantizationAwareTrainingResult(OnnxQuantizationReport Quantization, TrainingHistory History);
