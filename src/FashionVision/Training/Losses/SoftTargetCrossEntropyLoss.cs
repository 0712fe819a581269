using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Cross-entropy against soft targets, −Σₖ tₖ log softmax(z)ₖ averaged over the batch: the loss CutMix and Mixup pair
/// with. Hard targets are turned into one-hot rows, so it also works on un-mixed batches.
/// </summary>
public sealed class SoftTargetCrossEntropyLoss : ClassificationLoss
{
    /// <inheritdoc />
    protected override Tensor Compute(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var soft = ToSoft(logits, targets);
        var loss = soft.mul(nn.functional.log_softmax(logits, 1)).sum(1).neg().mean();
        return scope.MoveToOuter(loss);
    }

    /// <inheritdoc />
    public override string Describe() => "SoftTargetCrossEntropy()";
}
