using System.Text.Json;
using FashionVision.Data;
using FashionVision.Training;
using FashionVision.IO;
using FashionVision.Onnx.Protobuf;
using Google.Protobuf;
using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>
/// Post-training static INT8 quantization of an FP32 ONNX classifier in the QDQ format: Conv and Gemm weights become
/// per-channel symmetric int8 initializers (the file shrinks about 4×) with int32 biases, in the range the
/// <see cref="OnnxQuantizationOptions.Target"/> CPU class can multiply without saturating (<see cref="Int8Target"/>), and activations get
/// QuantizeLinear/DequantizeLinear pairs whose scales come from calibration images. ONNX Runtime fuses the pairs into integer
/// kernels (QLinearConv, QGemm, ...).
/// </summary>
/// <remarks>
/// A ReLU right after a Conv, Gemm or Add is folded into the quantization of its output (a uint8 zero point of 0 clamps negatives
/// exactly as ReLU does). Value-preserving operators (MaxPool, Flatten, Reshape) reuse their input's scale, so ONNX Runtime can
/// run them on integers.
/// </remarks>
public static class OnnxQuantizer
{
    /// <summary>The metadata value of <see cref="OnnxMetadataKeys.Quantization"/> in quantized models.</summary>
    public const string QdqInt8 = "qdq-int8";

    /// <summary>Quantizes the FP32 model at <paramref name="inputPath"/> into <paramref name="outputPath"/>.</summary>
    /// <param name="inputPath">An FP32 model (from <see cref="OnnxExporter"/>).</param>
    /// <param name="outputPath">The INT8 model to write (atomically).</param>
    /// <param name="calibrationImages">Calibration images N×C×H×W; pixels in [0, 1] unless <see cref="OnnxQuantizationOptions.ApplyModelNormalization"/> is off.</param>
    /// <param name="options">Calibration and type options. Null: min/max calibration, uint8 activations.</param>
    /// <exception cref="FileNotFoundException">The input model does not exist.</exception>
    /// <exception cref="OnnxFormatException">The input is not an FP32 ONNX model, or it is already quantized.</exception>
    public static OnnxQuantizationReport QuantizeStatic(string inputPath, string outputPath, Tensor calibrationImages, OnnxQuantizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(calibrationImages);
        if (calibrationImages.dim() != 4)
            throw new ArgumentException($"Calibration images must be N×C×H×W, not [{string.Join(", ", calibrationImages.shape)}].", nameof(calibrationImages));
        using var contiguous = calibrationImages.detach().cpu().to(float32).contiguous();
        return QuantizeStatic(inputPath, outputPath, contiguous.data<float>().ToArray(), (int)calibrationImages.shape[0], options);
    }

    /// <summary>Quantizes the FP32 model at <paramref name="inputPath"/> into <paramref name="outputPath"/>.</summary>
    /// <param name="inputPath">An FP32 model (from <see cref="OnnxExporter"/>).</param>
    /// <param name="outputPath">The INT8 model to write (atomically).</param>
    /// <param name="calibrationImages">Calibration images N×C×H×W row-major, in the model's input shape.</param>
    /// <param name="count">The number of images N.</param>
    /// <param name="options">Calibration and type options. Null: min/max calibration, uint8 activations.</param>
    public static OnnxQuantizationReport QuantizeStatic(string inputPath, string outputPath, float[] calibrationImages, int count, OnnxQuantizationOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        ArgumentNullException.ThrowIfNull(calibrationImages);
        options ??= new OnnxQuantizationOptions();
        options.Validate();
        if (count <= 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "At least one calibration image is needed.");

        var bytes = OnnxModelFile.ReadBytes(inputPath);
        var model = ReadFloatModel(inputPath, bytes);
        var (rewriter, ranges) = Calibrate(inputPath, model, calibrationImages, count, options);
        return Write(rewriter, ranges, outputPath, bytes.LongLength, count);
    }

    /// <summary>
    /// Quantization-aware training: calibrates the activation ranges of the FP32 model at <paramref name="inputPath"/> on the
    /// first training images and freezes them, fine-tunes the model with fake-quantized weights and activations
    /// (<see cref="QuantizationAwareModel"/>, trained by the <see cref="Trainer"/>), and writes the INT8 QDQ model with the
    /// trained weights and the scales and zero points the training used.
    /// </summary>
    /// <param name="inputPath">An FP32 model (from <see cref="OnnxExporter"/>).</param>
    /// <param name="outputPath">The INT8 model to write (atomically).</param>
    /// <param name="trainSet">The training images; the class count and image shape must be the model's.</param>
    /// <param name="options">Calibration, quantization and the fine-tuning run (null: the defaults).</param>
    /// <param name="cancellationToken">Stops the fine-tuning.</param>
    /// <exception cref="FileNotFoundException">The input model does not exist.</exception>
    /// <exception cref="OnnxFormatException">The input is not an FP32 ONNX model, or it is already quantized.</exception>
    /// <exception cref="ArgumentException">The training set does not fit the model, or an option is out of range.</exception>
    public static QuantizationAwareTrainingResult QuantizeWithTraining(string inputPath, string outputPath, InMemoryDataset trainSet,
        QuantizationAwareTrainingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        ArgumentNullException.ThrowIfNull(trainSet);
        options ??= new QuantizationAwareTrainingOptions();
        options.Validate();
        using var scope = NewDisposeScope();
        var calibration = trainSet.Images.narrow(0, 0, Math.Min(options.CalibrationImages, trainSet.Count)).to(float32).div(255f);
        using var model = QuantizationAwareModel.Create(inputPath, calibration, options.Quantization);
        if (model.ClassNames.Count > 0 && model.ClassNames.Count != trainSet.NumClasses)
            throw new ArgumentException($"The model '{inputPath}' has {model.ClassNames.Count} classes but the training set '{trainSet.Name}' has {trainSet.NumClasses}.", nameof(trainSet));
        var training = options.Training with
        {
            Normalize = model.Normalization is not null,
            Normalization = model.Normalization,
            CheckpointDirectory = null,
            ResumeFrom = null,
        };
        using var trainer = new Trainer(model, training);
        var history = trainer.Fit(trainSet, validationSet: null, cancellationToken);
        return new QuantizationAwareTrainingResult(model.Export(outputPath), history);
    }

    /// <summary>Parses an FP32 model that is not quantized yet.</summary>
    internal static ModelProto ReadFloatModel(string path, byte[] bytes)
    {
        var model = OnnxModelFile.Parse(path, bytes);
        if (model.Graph.Node.Any(n => n.OpType is "QuantizeLinear" or "DequantizeLinear"))
            throw new OnnxFormatException(path, "it is already quantized.");
        return model;
    }

    /// <summary>Plans the QDQ rewrite of <paramref name="model"/> and calibrates the ranges of its activations on ONNX Runtime.</summary>
    internal static (QdqRewriter Rewriter, Dictionary<string, (float Min, float Max)> Ranges) Calibrate(string path, ModelProto model,
        float[] calibrationImages, int count, OnnxQuantizationOptions options)
    {
        var imageShape = InputImageShape(path, model);
        var perImage = imageShape.Aggregate(1, (p, d) => p * d);
        if (calibrationImages.Length != (long)count * perImage)
            throw new ArgumentException(
                $"{count} calibration images of {string.Join("×", imageShape)} need {(long)count * perImage} values, not {calibrationImages.Length}.", nameof(calibrationImages));

        var images = options.ApplyModelNormalization ? Normalize(model, calibrationImages, imageShape) : calibrationImages;
        var rewriter = new QdqRewriter(model, options, Int8TargetChoice.Resolve(options.Target));
        var ranges = new ActivationCalibrator(model, rewriter.CalibratedTensors, options).Calibrate(images, count, imageShape);
        return (rewriter, ranges);
    }

    /// <summary>Writes the QDQ model <paramref name="rewriter"/> makes with <paramref name="ranges"/>, atomically.</summary>
    internal static OnnxQuantizationReport Write(QdqRewriter rewriter, Dictionary<string, (float Min, float Max)> ranges, string outputPath,
        long originalBytes, int calibrationImages)
    {
        var quantized = rewriter.Rewrite(ranges);
        SetMetadata(quantized, OnnxMetadataKeys.Quantization, QdqInt8);
        SetMetadata(quantized, OnnxMetadataKeys.Int8Target, rewriter.Target.Name);
        SetMetadata(quantized, OnnxMetadataKeys.Int8WeightMax, rewriter.Target.WeightMax.ToString(System.Globalization.CultureInfo.InvariantCulture));
        SetMetadata(quantized, OnnxMetadataKeys.Int8TargetReason, rewriter.Target.Reason);
        var output = quantized.ToByteArray();
        AtomicFile.Write(outputPath, stream => stream.Write(output));
        return new OnnxQuantizationReport(originalBytes, output.LongLength, rewriter.QuantizedWeights, rewriter.QuantizedActivations, calibrationImages)
        {
            Target = rewriter.Target,
        };
    }

    internal static int[] InputImageShape(string path, ModelProto model)
    {
        var dims = model.Graph.Input[0].Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count != 4 || dims.Skip(1).Any(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue <= 0))
            throw new OnnxFormatException(path, "its input is not N×C×H×W with fixed C, H and W.");
        return dims.Skip(1).Select(d => (int)d.DimValue).ToArray();
    }

    /// <summary>The normalization in the model's metadata (mean and std applied to [0, 1] pixels), or null.</summary>
    internal static ChannelStatistics? ReadNormalization(ModelProto model)
    {
        var metadata = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        if (!metadata.TryGetValue(OnnxMetadataKeys.Mean, out var meanJson) || !metadata.TryGetValue(OnnxMetadataKeys.Std, out var stdJson))
            return null;
        return new ChannelStatistics(JsonSerializer.Deserialize<float[]>(meanJson)!, JsonSerializer.Deserialize<float[]>(stdJson)!);
    }

    private static float[] Normalize(ModelProto model, float[] pixels, int[] imageShape)
    {
        if (ReadNormalization(model) is not var (mean, std))
            return pixels;
        var channels = imageShape[0];
        var plane = imageShape[1] * imageShape[2];
        var result = new float[pixels.Length];
        for (var offset = 0; offset < pixels.Length; offset += plane)
        {
            var c = offset / plane % channels;
            for (var i = 0; i < plane; i++)
                result[offset + i] = (pixels[offset + i] - mean[c]) / std[c];
        }
        return result;
    }

    internal static void SetMetadata(ModelProto model, string key, string value)
    {
        var existing = model.MetadataProps.FirstOrDefault(p => p.Key == key);
        if (existing is not null) existing.Value = value;
        else model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
    }
}
