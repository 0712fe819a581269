using FashionVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// ArcFace (Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face Recognition", CVPR 2019): cross-entropy over
/// the cosine logits <c>s·cos θₖ</c> of a cosine head, with an angular margin m added to the true class's angle,
/// <c>s·cos(θ_y + m)</c>, so a class is only predicted with confidence when its angle beats the others by m.
/// </summary>
/// <remarks>
/// <para>The model carries the head: build it with <see cref="ModelOptions.Head"/> = <see cref="HeadKind.Cosine"/> (or call
/// <see cref="ImageClassifier.UseHead"/>). Its logits are <c>s·cos θ</c> at training and at evaluation, so the Evaluator, ONNX
/// export and predictors read the plain cosine logits; only this loss knows the margin, and it needs nothing from the
/// Trainer but the logits and the labels: it recovers <c>cos θ_y = z_y / s</c> from the true class's logit and replaces that
/// logit with <c>s·cos(θ_y + m)</c>.</para>
/// <para>The scale s is the head's: when a run starts the Trainer binds the loss to the model (through
/// <see cref="ClassificationLoss.Callbacks"/>), which must have a cosine head. Where θ_y + m would pass π the paper's
/// fallback <c>cos θ_y − m·sin m</c> keeps the target logit decreasing in θ_y.</para>
/// <para>Soft targets (Mixup, CutMix) have no single class to put the margin on and are rejected.</para>
/// </remarks>
public sealed class ArcFaceLoss : ClassificationLoss
{
    private readonly HeadBinding _binding;
    private readonly float[]? _classWeights;

    /// <summary>Creates the loss.</summary>
    /// <param name="margin">The additive angular margin m in radians, in [0, π/2) (0.5 in the paper for faces; smaller suits 10 classes).</param>
    /// <param name="scale">The head's scale s, when the loss is used outside the Trainer; the Trainer takes it from the model.</param>
    /// <param name="labelSmoothing">Label smoothing ε in [0, 1) of the cross-entropy over the margin logits.</param>
    /// <param name="classWeights">Optional per-class weights of that cross-entropy.</param>
    public ArcFaceLoss(double margin = 0.3, double? scale = null, double labelSmoothing = 0, float[]? classWeights = null)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must be in [0, 1).");
        LabelSmoothing = labelSmoothing;
        _classWeights = CheckClassWeights(classWeights, nameof(classWeights));
        if (!(margin >= 0 && margin < Math.PI / 2))
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The ArcFace margin must be in [0, π/2) radians.");
        if (scale is double s && !(s > 0 && double.IsFinite(s)))
            throw new ArgumentOutOfRangeException(nameof(scale), s, "The scale must be finite and positive.");
        Margin = margin;
        Scale = scale;
        _binding = new HeadBinding(this);
    }

    /// <summary>The angular margin m in radians.</summary>
    public double Margin { get; }

    /// <summary>The label smoothing ε of the cross-entropy over the margin logits.</summary>
    public double LabelSmoothing { get; }

    /// <summary>The scale s of the cosine logits (the model's <see cref="ImageClassifier.CosineScale"/>), or null before binding.</summary>
    public double? Scale { get; private set; }

    /// <inheritdoc />
    public override IReadOnlyList<TrainerCallback> Callbacks => [_binding];

    /// <inheritdoc />
    protected override Tensor Compute(Tensor logits, Tensor targets)
    {
        if (IsSoft(targets))
            throw new ArgumentException("ArcFace needs class indices: soft targets (Mixup, CutMix) have no single class to add the margin to.", nameof(targets));
        double s = Scale ?? throw new InvalidOperationException(
            "ArcFaceLoss does not know the cosine head's scale: train through the Trainer with a cosine-head model, or pass the scale.");
        using var scope = NewDisposeScope();
        var index = targets.unsqueeze(1);
        var cosine = logits.gather(1, index).div(s).clamp(-1 + 1e-6, 1 - 1e-6);
        var sine = cosine.square().neg().add(1).sqrt();
        var withMargin = cosine.mul(Math.Cos(Margin)).sub(sine.mul(Math.Sin(Margin)));
        // Beyond θ = π − m, cos(θ + m) would rise again; the paper's linear fallback keeps the logit decreasing.
        withMargin = where(cosine.gt(Math.Cos(Math.PI - Margin)), withMargin, cosine.sub(Math.Sin(Math.PI - Margin) * Margin));
        var marginLogits = logits.scatter(1, index, withMargin.mul(s));
        return scope.MoveToOuter(nn.functional.cross_entropy(marginLogits, targets, WeightTensor(_classWeights, logits), label_smoothing: LabelSmoothing));
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"ArcFace(margin={Format(Margin)}{(LabelSmoothing > 0 ? $", label_smoothing={Format(LabelSmoothing)}" : "")}{(_classWeights is null ? "" : ", class_weights")})";

    /// <summary>Takes the scale from the model's cosine head when a run starts.</summary>
    private sealed class HeadBinding(ArcFaceLoss loss) : TrainerCallback
    {
        public override string StateKey => "ArcFaceLoss";

        public override void OnFitStart(Trainer trainer)
        {
            if (trainer.Model is not ImageClassifier { Head: HeadKind.Cosine } model)
                throw new ArgumentException(
                    "ArcFace trains a cosine head: build the model with ModelOptions.Head = HeadKind.Cosine (fashionvision train --loss arcface does), or call ImageClassifier.UseHead(HeadKind.Cosine).",
                    "model");
            if (loss.Scale is double s && s != model.CosineScale)
                throw new ArgumentException($"ArcFaceLoss was given scale {Format(s)} but the model's cosine head has {Format(model.CosineScale)}.", "model");
            loss.Scale = model.CosineScale;
        }
    }
}
