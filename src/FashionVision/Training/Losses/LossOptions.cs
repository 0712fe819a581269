namespace FashionVision.Training;

/// <summary>The kinds of loss <see cref="LossFactory"/> builds.</summary>
public enum LossKind
{
    /// <summary>Cross-entropy with optional class weights and label smoothing (<see cref="CrossEntropyLoss"/>).</summary>
    CrossEntropy,

    /// <summary>Focal loss (<see cref="FocalLoss"/>).</summary>
    Focal,

    /// <summary>Soft-target cross-entropy for CutMix/Mixup (<see cref="SoftTargetCrossEntropyLoss"/>).</summary>
    SoftTargetCrossEntropy,

    /// <summary>Knowledge distillation over cross-entropy (<see cref="DistillationLoss"/>); needs <see cref="TrainerOptions.Teacher"/>.</summary>
    Distillation,

    /// <summary>Cross-entropy plus center loss on the embedding (<see cref="CenterLoss"/>); needs an <c>ImageClassifier</c>.</summary>
    Center,

    /// <summary>ArcFace's additive angular margin on a cosine head (<see cref="ArcFaceLoss"/>); needs a model with <c>HeadKind.Cosine</c>.</summary>
    ArcFace,
}

/// <summary>Which loss to train with, and its parameters. The defaults give plain cross-entropy.</summary>
public sealed record LossOptions
{
    /// <summary>The loss (default cross-entropy).</summary>
    public LossKind Kind { get; init; } = LossKind.CrossEntropy;

    /// <summary>Label smoothing ε in [0, 1) for cross-entropy, the student term of distillation, the cross-entropy of center loss and ArcFace's (default 0).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Optional per-class weights (cross-entropy, focal, distillation's student term, center loss's cross-entropy, ArcFace).</summary>
    public float[]? ClassWeights { get; init; }

    /// <summary>Focal loss γ (default 2).</summary>
    public double FocalGamma { get; init; } = 2.0;

    /// <summary>Focal loss α (default 1).</summary>
    public double FocalAlpha { get; init; } = 1.0;

    /// <summary>Distillation temperature T (default 4).</summary>
    public double DistillationTemperature { get; init; } = 4.0;

    /// <summary>Distillation weight α of the teacher term (default 0.5).</summary>
    public double DistillationAlpha { get; init; } = 0.5;

    /// <summary>Center loss λ, the weight of the center term (default 0.01).</summary>
    public double CenterLossWeight { get; init; } = 0.01;

    /// <summary>Center loss α, the step of the center update (default 0.5).</summary>
    public double CenterLearningRate { get; init; } = 0.5;

    /// <summary>ArcFace's angular margin m in radians (default 0.3).</summary>
    public double ArcFaceMargin { get; init; } = 0.3;
}

/// <summary>Builds a <see cref="ClassificationLoss"/> from <see cref="LossOptions"/>.</summary>
public static class LossFactory
{
    /// <summary>Creates the loss the options describe.</summary>
    /// <exception cref="ArgumentException">An option is out of range (the exception names it).</exception>
    public static ClassificationLoss Create(LossOptions? options = null)
    {
        options ??= new LossOptions();
        try
        {
            return options.Kind switch
            {
                LossKind.CrossEntropy => new CrossEntropyLoss(options.LabelSmoothing, options.ClassWeights),
                LossKind.Focal => new FocalLoss(options.FocalGamma, options.FocalAlpha, options.ClassWeights),
                LossKind.SoftTargetCrossEntropy => new SoftTargetCrossEntropyLoss(),
                LossKind.Distillation => new DistillationLoss(
                    new CrossEntropyLoss(options.LabelSmoothing, options.ClassWeights), options.DistillationTemperature, options.DistillationAlpha),
                LossKind.Center => new CenterLoss(
                    new CrossEntropyLoss(options.LabelSmoothing, options.ClassWeights), options.CenterLossWeight, options.CenterLearningRate),
                LossKind.ArcFace => new ArcFaceLoss(options.ArcFaceMargin, labelSmoothing: options.LabelSmoothing, classWeights: options.ClassWeights),
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind, "Unknown loss kind."),
            };
        }
        catch (ArgumentException e) when (e.ParamName is not null && e.ParamName != nameof(options))
        {
            throw new ArgumentException($"LossOptions: {e.Message}", $"{nameof(options)}.{OptionName(options.Kind, e.ParamName)}", e);
        }
    }

    private static string OptionName(LossKind kind, string parameter) => parameter switch
    {
        "labelSmoothing" => nameof(LossOptions.LabelSmoothing),
        "classWeights" => nameof(LossOptions.ClassWeights),
        "gamma" => nameof(LossOptions.FocalGamma),
        "alpha" => kind == LossKind.Distillation ? nameof(LossOptions.DistillationAlpha) : nameof(LossOptions.FocalAlpha),
        "temperature" => nameof(LossOptions.DistillationTemperature),
        "weight" => nameof(LossOptions.CenterLossWeight),
        "centerLearningRate" => nameof(LossOptions.CenterLearningRate),
        "margin" => nameof(LossOptions.ArcFaceMargin),
        _ => parameter,
    };
}
