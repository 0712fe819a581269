namespace FashionVision.Onnx;

/// <summary>How activation ranges are taken from the calibration images.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen (every calibration value is representable; outliers widen the step).</summary>
    MinMax,

    /// <summary>
    /// The <see cref="OnnxQuantizationOptions.Percentile"/> and 100 − percentile points of a histogram of the values (outliers
    /// saturate; the step is finer for the bulk of the values).
    /// </summary>
    Percentile,
}

/// <summary>The integer type activations are quantized to (weights are always per-channel symmetric int8).</summary>
public enum ActivationQuantizationType
{
    /// <summary>Asymmetric uint8 (the fast u8×s8 path of ONNX Runtime on x86).</summary>
    UInt8,

    /// <summary>Asymmetric int8.</summary>
    Int8,
}

/// <summary>Options for <see cref="OnnxQuantizer.QuantizeStatic(string, string, TorchSharp.torch.Tensor, OnnxQuantizationOptions?)"/>.</summary>
public sealed record OnnxQuantizationOptions
{
    /// <summary>How activation ranges are taken from the calibration images.</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>For <see cref="CalibrationMethod.Percentile"/>: the upper percentile kept, in (50, 100].</summary>
    public double Percentile { get; init; } = 99.999;

    /// <summary>For <see cref="CalibrationMethod.Percentile"/>: histogram bins per tensor.</summary>
    public int HistogramBins { get; init; } = 2048;

    /// <summary>The activation integer type.</summary>
    public ActivationQuantizationType ActivationType { get; init; } = ActivationQuantizationType.UInt8;

    /// <summary>
    /// The CPU class the model is quantized for (default <see cref="Int8Target.Auto"/>: this machine's). It sets the weight
    /// range: full (±127) for CPUs with VNNI, 7-bit (±63) where ONNX Runtime's kernels could saturate. Use
    /// <see cref="Int8Target.Portable"/> for a file that is right on every CPU.
    /// </summary>
    public Int8Target Target { get; init; } = Int8Target.Auto;

    /// <summary>Images per calibration batch (memory grows with it: every intermediate tensor of the batch is kept).</summary>
    public int CalibrationBatchSize { get; init; } = 16;

    /// <summary>
    /// True: calibration images are pixels in [0, 1] and the model's normalization metadata (mean/std) is applied to them, as
    /// <see cref="OnnxPredictor"/> does. False: they are passed to the model as they are.
    /// </summary>
    public bool ApplyModelNormalization { get; init; } = true;

    /// <summary>Checks every option and throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Method))
            throw new ArgumentOutOfRangeException(nameof(Method), Method, "Unknown calibration method.");
        if (!Enum.IsDefined(Target))
            throw new ArgumentOutOfRangeException(nameof(Target), Target, "Unknown INT8 target.");
        if (!Enum.IsDefined(ActivationType))
            throw new ArgumentOutOfRangeException(nameof(ActivationType), ActivationType, "Unknown activation type.");
        if (!(Percentile > 50 && Percentile <= 100))
            throw new ArgumentOutOfRangeException(nameof(Percentile), Percentile, "The percentile must be in (50, 100].");
        if (HistogramBins < 16)
            throw new ArgumentOutOfRangeException(nameof(HistogramBins), HistogramBins, "Use at least 16 histogram bins.");
        if (CalibrationBatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(CalibrationBatchSize), CalibrationBatchSize, "The batch size must be positive.");
    }
}

/// <summary>What <see cref="OnnxQuantizer"/> did.</summary>
/// <param name="OriginalBytes">The size of the FP32 model file.</param>
/// <param name="QuantizedBytes">The size of the INT8 model file.</param>
/// <param name="QuantizedWeights">Weight tensors stored as int8 (Conv and Gemm/MatMul weights).</param>
/// <param name="QuantizedActivations">Activation tensors given a QuantizeLinear/DequantizeLinear pair.</param>
/// <param name="CalibrationImages">Images the activation ranges were taken from.</param>
public sealed record OnnxQuantizationReport(long OriginalBytes, long QuantizedBytes, int QuantizedWeights, int QuantizedActivations, int CalibrationImages)
{
    /// <summary>The INT8 target the weights were quantized for, and why (null only in reports made by hand).</summary>
    public Int8TargetChoice? Target { get; init; }

    /// <summary>How many times smaller the quantized file is.</summary>
    public double CompressionRatio => (double)OriginalBytes / QuantizedBytes;
}
