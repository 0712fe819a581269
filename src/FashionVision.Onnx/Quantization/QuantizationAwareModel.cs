using System.Text.Json;
using FashionVision.Data;
using FashionVision.Onnx.Protobuf;
using Google.Protobuf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>
/// An exported FP32 ONNX classifier as a trainable TorchSharp module that computes what its INT8 (QDQ) version computes:
/// the graph's own operators with its weights as parameters (BatchNorm already folded into the convolutions, as the file
/// has it), fake-quantized exactly where <see cref="OnnxQuantizer"/> puts quantization — per-channel symmetric int8
/// weights with scales from the current weights, int32 biases, and per-tensor affine activations whose ranges are
/// calibrated once on training images and then frozen — with a straight-through estimator for the gradients.
/// Fine-tune it (<see cref="OnnxQuantizer.QuantizeWithTraining"/> runs the <c>Trainer</c> on it), then <see cref="Export"/>
/// writes the QDQ model with the trained weights and the scales and zero points the training used.
/// </summary>
/// <remarks>
/// Its input is the normalized image, as the exported graph's is (<see cref="Normalization"/> from the file's metadata);
/// its output is the logits. With <see cref="FakeQuantize"/> off it is the FP32 graph.
/// </remarks>
public sealed class QuantizationAwareModel : nn.Module<Tensor, Tensor>
{
    private readonly ModelProto _model;
    private readonly long _originalBytes;
    private readonly int _calibrationImages;
    private readonly OnnxQuantizationOptions _options;
    private readonly QdqRewriter _plan;
    private readonly Dictionary<string, (float Min, float Max)> _ranges;
    private readonly Dictionary<string, (float Scale, int ZeroPoint)> _activations;
    private readonly (int Min, int Max) _limits;
    // Registered parameter and buffer names (p0, c0, …) → the graph's initializer names.
    private readonly Dictionary<string, string> _initializerOf = new();
    private readonly HashSet<string> _trainable = new();

    private QuantizationAwareModel(ModelProto model, long originalBytes, int calibrationImages, OnnxQuantizationOptions options,
        QdqRewriter plan, Dictionary<string, (float Min, float Max)> ranges)
        : base(nameof(QuantizationAwareModel))
    {
        _model = model;
        _originalBytes = originalBytes;
        _calibrationImages = calibrationImages;
        _options = options;
        _plan = plan;
        _ranges = ranges;
        _limits = QuantizationMath.ActivationLimits(options.ActivationType);
        _activations = plan.RangeSources.ToDictionary(p => p.Key, p => plan.ActivationParameters(ranges[p.Value]));
        Normalization = OnnxQuantizer.ReadNormalization(model);
        ClassNames = ReadClassNames(model);

        int parameters = 0, constants = 0;
        foreach (var initializer in model.Graph.Initializer)
        {
            var value = OnnxTensors.FromProto(initializer);
            if (IsTrainable(initializer))
            {
                var name = $"p{parameters++}";
                register_parameter(name, new Parameter(value));
                _initializerOf[name] = initializer.Name;
                _trainable.Add(initializer.Name);
            }
            else
            {
                var name = $"c{constants++}";
                register_buffer(name, value);
                _initializerOf[name] = initializer.Name;
            }
        }
    }

    /// <summary>
    /// Builds the module from the FP32 model at <paramref name="fp32Path"/>, calibrating the activation ranges on
    /// <paramref name="calibrationImages"/> exactly as <see cref="OnnxQuantizer.QuantizeStatic(string, string, Tensor, OnnxQuantizationOptions?)"/> does.
    /// </summary>
    /// <param name="fp32Path">An FP32 model written by <see cref="OnnxExporter"/>.</param>
    /// <param name="calibrationImages">Calibration images N×C×H×W, pixels in [0, 1] (normalized with the model's metadata unless the options say otherwise).</param>
    /// <param name="options">Calibration and activation type (null: min/max, uint8), as for post-training quantization.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="OnnxFormatException">It is not an FP32 ONNX model, or it is already quantized.</exception>
    /// <exception cref="NotSupportedException">The graph uses an operator this module cannot run (the message names it).</exception>
    public static QuantizationAwareModel Create(string fp32Path, Tensor calibrationImages, OnnxQuantizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(calibrationImages);
        if (calibrationImages.dim() != 4)
            throw new ArgumentException($"Calibration images must be N×C×H×W, not [{string.Join(", ", calibrationImages.shape)}].", nameof(calibrationImages));
        options ??= new OnnxQuantizationOptions();
        options.Validate();
        var bytes = OnnxModelFile.ReadBytes(fp32Path);
        var model = OnnxQuantizer.ReadFloatModel(fp32Path, bytes);
        int count = (int)calibrationImages.shape[0];
        if (count == 0)
            throw new ArgumentException("At least one calibration image is needed.", nameof(calibrationImages));
        using var contiguous = calibrationImages.detach().cpu().to(float32).contiguous();
        var (plan, ranges) = OnnxQuantizer.Calibrate(fp32Path, model, contiguous.data<float>().ToArray(), count, options);
        return new QuantizationAwareModel(model, bytes.LongLength, count, options, plan, ranges);
    }

    /// <summary>Fake-quantize weights and activations (default true); false runs the FP32 graph.</summary>
    public bool FakeQuantize { get; set; } = true;

    /// <summary>The normalization the graph's input expects (from the file's metadata), or null for raw [0, 1] pixels.</summary>
    public ChannelStatistics? Normalization { get; }

    /// <summary>The class names from the file's metadata (empty when it has none).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>
    /// The frozen quantization of every quantized activation, by the graph's tensor name: what <see cref="Export"/> writes
    /// into the QuantizeLinear/DequantizeLinear pairs.
    /// </summary>
    public IReadOnlyDictionary<string, (float Scale, int ZeroPoint)> ActivationQuantization => _activations;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in named_parameters())
            values[_initializerOf[name]] = parameter;
        foreach (var (name, buffer) in named_buffers())
            values[_initializerOf[name]] = buffer;
        var graph = _model.Graph;
        values[graph.Input[0].Name] = Quantize(graph.Input[0].Name, input);
        foreach (var node in graph.Node)
        {
            var inputs = node.Input.Select(name => name.Length == 0 ? null : values.TryGetValue(name, out var v) ? v
                : throw new InvalidOperationException($"ONNX node '{node.Name}' reads '{name}' before anything computes it.")).ToArray();
            if (FakeQuantize && _plan.QuantizedWeightAxis(node) is { } axis)
            {
                var (weight, scales) = FakeQuantization.Weight(inputs[1]!, axis, _plan.Target.WeightMax);
                inputs[1] = weight;
                if (_plan.QuantizesBias(node))
                    inputs[2] = FakeQuantization.Bias(inputs[2]!, _activations[node.Input[0]].Scale, scales);
            }
            values[node.Output[0]] = Quantize(node.Output[0], OnnxGraphOps.Apply(node, inputs));
        }
        return scope.MoveToOuter(values[graph.Output[0].Name]);
    }

    /// <summary>
    /// Writes the INT8 QDQ model: the graph with the current (trained) weights, quantized per channel, and the activation
    /// scales and zero points of <see cref="ActivationQuantization"/>. ONNX Runtime fuses it into integer kernels
    /// (QLinearConv, QGemm) like a post-training quantized model.
    /// </summary>
    /// <param name="int8Path">The file to write (atomically).</param>
    public OnnxQuantizationReport Export(string int8Path)
    {
        ArgumentException.ThrowIfNullOrEmpty(int8Path);
        var trained = _model.Clone();
        var parameters = named_parameters().ToDictionary(p => _initializerOf[p.name], p => p.parameter);
        foreach (var initializer in trained.Graph.Initializer.Where(i => _trainable.Contains(i.Name)))
        {
            using var value = parameters[initializer.Name].detach().cpu().to(float32).contiguous();
            initializer.FloatData.Clear();
            initializer.RawData = ByteString.CopyFrom(value.bytes);
        }
        return OnnxQuantizer.Write(new QdqRewriter(trained, _options, _plan.Target), _ranges, int8Path, _originalBytes, _calibrationImages);
    }

    private Tensor Quantize(string tensor, Tensor value) =>
        FakeQuantize && _activations.TryGetValue(tensor, out var q) ? FakeQuantization.Activation(value, q.Scale, q.ZeroPoint, _limits) : value;

    /// <summary>
    /// Weights and biases train; everything else (BatchNorm running statistics, shapes, axes, constants of activations) is
    /// fixed: float initializers read as a Conv or Gemm weight or bias, a MatMul weight, a BatchNormalization scale or shift,
    /// or the bias added after a MatMul.
    /// </summary>
    private bool IsTrainable(TensorProto initializer)
    {
        if (initializer.DataType != (int)TensorProto.Types.DataType.Float)
            return false;
        foreach (var node in _model.Graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] != initializer.Name)
                    continue;
                bool trainable = node.OpType switch
                {
                    "Conv" or "Gemm" => i >= 1,
                    "MatMul" => i == 1,
                    "BatchNormalization" => i is 1 or 2,
                    "Add" => _model.Graph.Node.Any(n => n.OpType == "MatMul" && n.Output.Contains(node.Input[1 - i])),
                    _ => false,
                };
                if (trainable)
                    return true;
            }
        }
        return false;
    }

    private static IReadOnlyList<string> ReadClassNames(ModelProto model) =>
        model.MetadataProps.FirstOrDefault(p => p.Key == OnnxMetadataKeys.ClassNames) is { } entry
            ? JsonSerializer.Deserialize<string[]>(entry.Value) ?? []
            : [];
}
