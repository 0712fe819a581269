using FashionVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Visualization;

/// <summary>
/// Grad-CAM (Selvaraju et al. 2017): where in the image a model looks when it scores a class. For any
/// <see cref="ImageClassifier"/>: A = ForwardFeatures(x), y = ForwardHead(A)[class], weights = spatial mean of ∂y/∂A,
/// cam = ReLU(Σ_f weights_f · A_f), upsampled bilinearly to the input size and scaled to [0, 1] per image.
/// </summary>
/// <remarks>
/// The model runs in eval mode (BatchNorm running statistics, no dropout) and its previous mode is restored afterwards. The
/// gradient is taken with <c>torch.autograd.grad</c> with respect to the feature map only: the model's parameters never
/// receive a gradient, so their <c>.grad</c> is left exactly as it was (a training step in progress is not disturbed).
/// The feature extractor runs without building a graph. An image whose CAM is zero everywhere (the class evidence is all
/// negative) gets an all-zero heatmap.
/// </remarks>
public sealed class GradCam
{
    private readonly ImageClassifier _model;

    /// <summary>Creates a Grad-CAM explainer for a model.</summary>
    /// <param name="model">Any zoo model (or other <see cref="ImageClassifier"/>).</param>
    public GradCam(ImageClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>Computes heatmaps for the given classes, or for each image's predicted class.</summary>
    /// <param name="input">Images N×C×H×W (float, normalised the way the model expects) on the model's device.</param>
    /// <param name="targetClasses">Class per image (int64, N), or null for the predicted (arg-max) class.</param>
    /// <returns>Heatmaps N×H×W, float32 in [0, 1], on the input's device.</returns>
    /// <exception cref="ArgumentException">Wrong rank, channel count or dtype, or target classes of the wrong length or out of range.</exception>
    public Tensor Compute(Tensor input, Tensor? targetClasses = null)
    {
        var result = Explain(input, targetClasses);
        result.Logits.Dispose();
        result.TargetClasses.Dispose();
        return result.Heatmaps;
    }

    /// <summary>Computes heatmaps for one class for every image.</summary>
    /// <param name="input">Images N×C×H×W.</param>
    /// <param name="targetClass">The class to explain.</param>
    /// <returns>Heatmaps N×H×W in [0, 1].</returns>
    public Tensor Compute(Tensor input, int targetClass)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (targetClass < 0 || targetClass >= _model.NumClasses)
            throw new ArgumentOutOfRangeException(nameof(targetClass), targetClass, $"The model has {_model.NumClasses} classes.");
        using var targets = full(input.shape[0], (long)targetClass, dtype: ScalarType.Int64, device: input.device);
        return Compute(input, targets);
    }

    /// <summary>Computes heatmaps and returns them with the logits and the explained classes.</summary>
    /// <param name="input">Images N×C×H×W on the model's device.</param>
    /// <param name="targetClasses">Class per image (int64, N), or null for the predicted class.</param>
    public GradCamResult Explain(Tensor input, Tensor? targetClasses = null)
    {
        using var scope = NewDisposeScope();
        Validate(input, targetClasses);
        var wasTraining = _model.training;
        _model.eval();
        try
        {
            Tensor features;
            using (no_grad())
                features = _model.ForwardFeatures(input);
            if (features.dim() != 4)
                throw new InvalidOperationException($"{_model.GetName()}.ForwardFeatures returned shape [{string.Join(", ", features.shape)}], not a feature map N×F×h×w.");

            using var gradEnabled = enable_grad();
            var activations = features.detach().requires_grad_(true);
            var logits = _model.ForwardHead(activations);
            var targets = targetClasses is null ? logits.argmax(1) : targetClasses.to(logits.device).to_type(ScalarType.Int64);
            var score = logits.gather(1, targets.unsqueeze(1)).sum();
            var gradients = autograd.grad([score], [activations])[0];

            using (no_grad())
            {
                var weights = gradients.mean([2, 3], keepdim: true);
                var cam = nn.functional.relu((weights * activations.detach()).sum(1, keepdim: true));
                cam = nn.functional.interpolate(cam, size: [input.shape[2], input.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false);
                cam = cam.squeeze(1);
                var flat = cam.flatten(1);
                var min = flat.amin([1], keepdim: true).unsqueeze(2);
                var max = flat.amax([1], keepdim: true).unsqueeze(2);
                var range = max - min;
                var normalised = where(range > 1e-12, (cam - min) / range.clamp_min(1e-12), zeros_like(cam));
                return new GradCamResult(
                    scope.MoveToOuter(normalised.to_type(ScalarType.Float32).to(input.device)),
                    scope.MoveToOuter(logits.detach()),
                    scope.MoveToOuter(targets.detach()));
            }
        }
        finally
        {
            _model.train(wasTraining);
        }
    }

    private void Validate(Tensor input, Tensor? targetClasses)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4)
            throw new ArgumentException($"Expected images N×C×H×W, got shape [{string.Join(", ", input.shape)}].", nameof(input));
        if (!input.is_floating_point())
            throw new ArgumentException($"Expected a floating-point image tensor, got {input.dtype}.", nameof(input));
        if (input.shape[1] != _model.InputChannels)
            throw new ArgumentException($"The model expects {_model.InputChannels} input channel(s), got {input.shape[1]}.", nameof(input));
        if (targetClasses is null)
            return;
        if (targetClasses.dim() != 1 || targetClasses.shape[0] != input.shape[0])
            throw new ArgumentException($"Expected one target class per image ({input.shape[0]}), got shape [{string.Join(", ", targetClasses.shape)}].", nameof(targetClasses));
        if (targetClasses.is_floating_point() || targetClasses.dtype == ScalarType.Bool)
            throw new ArgumentException($"Target classes must be integers, got {targetClasses.dtype}.", nameof(targetClasses));
        var min = targetClasses.min().item<long>();
        var max = targetClasses.max().item<long>();
        if (min < 0 || max >= _model.NumClasses)
            throw new ArgumentOutOfRangeException(nameof(targetClasses), $"Target classes must be in [0, {_model.NumClasses}), got values from {min} to {max}.");
    }
}

/// <summary>What <see cref="GradCam.Explain"/> computed. Dispose it to free the tensors.</summary>
/// <param name="Heatmaps">N×H×W heatmaps in [0, 1], on the input's device.</param>
/// <param name="Logits">The model's logits N×K (eval mode).</param>
/// <param name="TargetClasses">The class each heatmap explains (int64, N).</param>
public sealed record GradCamResult(Tensor Heatmaps, Tensor Logits, Tensor TargetClasses) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Heatmaps.Dispose();
        Logits.Dispose();
        TargetClasses.Dispose();
    }
}
