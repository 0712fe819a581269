using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Transforms;
using static TorchSharp.torch;

namespace FashionVision.Onnx.Converters;

/// <summary>
/// Converters for the wrappers that change what a model computes at inference: input preprocessing
/// (<see cref="PreprocessedClassifier"/>), test-time augmentation (<see cref="TtaClassifier"/>) and ensembles
/// (<see cref="EnsembleClassifier"/>). Each emits the same operations as the module's forward pass, so the exported graph
/// takes the same input as the module (e.g. 1×28×28 images for a 224-px ResNet) and returns logits whose softmax is the
/// averaged prediction.
/// </summary>
internal static class InferenceConverters
{
    public static void RegisterAll(OnnxConverterRegistry registry)
    {
        registry.Register<PreprocessedClassifier>(ConvertPreprocessed);
        registry.Register<TtaClassifier>(ConvertTta);
        registry.Register<EnsembleClassifier>(ConvertEnsemble);
    }

    private static OnnxValue ConvertPreprocessed(OnnxExportContext c, PreprocessedClassifier model, OnnxValue input)
    {
        var preprocessing = model.Preprocessing;
        var x = input;
        if (preprocessing.Size is int size && (x.Shape[2] != size || x.Shape[3] != size))
            x = Resize(c, x, size);
        if (preprocessing.Channels is int channels && x.Shape[1] != channels)
            x = c.Concat(1, Enumerable.Repeat(x, channels).ToArray());
        if (preprocessing.Mean is { } mean && preprocessing.Std is { } std)
        {
            var meanValue = c.Constant("mean", tensor(mean, [1, mean.Length, 1, 1]));
            var stdValue = c.Constant("std", tensor(std, [1, std.Length, 1, 1]));
            x = c.Div(c.Sub(x, meanValue), stdValue);
        }
        return c.Convert(model.Inner, x, "model");
    }

    /// <summary>
    /// Bilinear resize to size×size with PyTorch's pixel-centre convention (align_corners = false). The batch is dynamic, so
    /// the target sizes are the input's own N and C followed by size, size. Shrinking is antialiased as in
    /// <see cref="TransformFunctional.Resize"/>, which ONNX expresses from opset 18 on.
    /// </summary>
    private static OnnxValue Resize(OnnxExportContext c, OnnxValue x, int size)
    {
        bool shrinking = size < x.Shape[2] || size < x.Shape[3];
        if (shrinking && c.Opset < 18)
            throw new NotSupportedException(
                $"'{c.CurrentPath}' shrinks {x.Shape[2]}×{x.Shape[3]} images to {size}×{size} with antialiasing, which ONNX Resize expresses from opset 18 on; export with Opset = 18 or higher.");
        var shape = c.AddNode("Shape", [x], tensor(x.Shape));
        var batchAndChannels = c.Slice(shape, [0], [2], [0], tensor(x.Shape[..2]));
        var sizes = c.Concat(0, batchAndChannels, c.Constant("resize_hw", tensor(new long[] { size, size })));
        List<OnnxAttribute> attributes =
        [
            OnnxAttribute.String("mode", "linear"),
            OnnxAttribute.String("coordinate_transformation_mode", "pytorch_half_pixel"),
        ];
        if (shrinking)
            attributes.Add(OnnxAttribute.Int("antialias", 1));
        return c.AddNode("Resize", [x, null, null, sizes], TransformFunctional.Resize(x.Sample, size, size), [.. attributes]);
    }

    private static OnnxValue ConvertTta(OnnxExportContext c, TtaClassifier tta, OnnxValue input)
    {
        var views = tta.Policy.Views;
        if (tta.Policy.IsIdentity)
            return c.Convert(tta.Model, input, "model");
        // Every view goes through the model in one batch of K·N images, so the weights appear once in the graph.
        var viewValues = views.Select(view => View(c, input, view, tta.Fill)).ToArray();
        var all = c.Concat(0, viewValues);
        var logits = c.Convert(tta.Model, all, "model");
        long classes = logits.Shape[1];
        var stackedShape = c.Constant("views_shape", tensor(new long[] { views.Count, -1, classes }));
        var stacked = c.AddNode("Reshape", [logits, stackedShape], logits.Sample.reshape(views.Count, -1, classes));
        return Average(c, stacked, 0, tta.Policy.Averaging);
    }

    /// <summary>One test-time view: a mirror (a reversing Slice) and a shift (Pad, then a Slice back to the frame).</summary>
    private static OnnxValue View(OnnxExportContext c, OnnxValue input, TtaView view, IReadOnlyList<float>? fill)
    {
        var x = input;
        if (view.HorizontalFlip)
            x = c.Slice(x, [-1], [long.MinValue], [3], x.Sample.flip(3), steps: [-1]);
        if (view.ShiftX == 0 && view.ShiftY == 0)
            return x;
        long height = x.Shape[2], width = x.Shape[3];
        int dx = view.ShiftX, dy = view.ShiftY;
        OnnxValue? level = fill is not null && fill.Any(f => f != 0)
            ? c.Constant("fill", tensor(fill.ToArray(), [1, fill.Count, 1, 1]))
            : null;
        if (level is not null)
            x = c.Sub(x, level);
        long[] padding = [Math.Max(dx, 0), Math.Max(-dx, 0), Math.Max(dy, 0), Math.Max(-dy, 0)];
        var paddedSample = nn.functional.pad(x.Sample, padding);
        // ONNX pads: the begins of every axis (N, C, H, W), then the ends.
        var pads = c.Constant("pads", tensor(new long[] { 0, 0, padding[2], padding[0], 0, 0, padding[3], padding[1] }));
        var padded = c.AddNode("Pad", [x, pads], paddedSample, OnnxAttribute.String("mode", "constant"));
        long top = Math.Max(-dy, 0), left = Math.Max(-dx, 0);
        x = c.Slice(padded, [top, left], [top + height, left + width], [2, 3], paddedSample.narrow(2, top, height).narrow(3, left, width));
        return level is null ? x : c.Add(x, level);
    }

    private static OnnxValue ConvertEnsemble(OnnxExportContext c, EnsembleClassifier ensemble, OnnxValue input)
    {
        var outputs = ensemble.Members.Select((member, i) => c.Convert(member, input, $"members.{i}")).ToArray();
        if (outputs.Length == 1)
            return outputs[0];
        long classes = outputs[0].Shape[1];
        var stacked = c.ReshapeKeepingBatch(c.Concat(1, outputs), [outputs.Length, classes]);
        return Average(c, stacked, 1, ensemble.Averaging);
    }

    /// <summary>
    /// Combines predictions stacked along <paramref name="axis"/> (classes last) as <c>PredictionAverager</c> does: the mean
    /// logit, or log(mean softmax) written as a stable log-mean-exp of the log-softmax (max subtracted before Exp).
    /// </summary>
    private static OnnxValue Average(OnnxExportContext c, OnnxValue stacked, long axis, PredictionAveraging averaging)
    {
        if (averaging == PredictionAveraging.Logits)
            return c.ReduceMean(stacked, [axis], keepDims: false);
        long last = stacked.Shape.Length - 1;
        var logProbabilities = c.AddNode("LogSoftmax", [stacked], stacked.Sample.log_softmax(last), OnnxAttribute.Int("axis", last));
        var peak = c.ReduceMax(logProbabilities, [axis]);
        var shifted = c.Sub(logProbabilities, peak);
        var exponentials = c.AddNode("Exp", [shifted], shifted.Sample.exp());
        var mean = c.ReduceMean(exponentials, [axis], keepDims: false);
        var logMean = c.AddNode("Log", [mean], mean.Sample.log());
        return c.Add(logMean, c.ReduceMax(logProbabilities, [axis], keepDims: false));
    }
}
