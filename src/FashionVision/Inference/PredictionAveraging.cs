using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Inference;

/// <summary>How several predictions of one image (test-time views, ensemble members) are combined.</summary>
public enum PredictionAveraging
{
    /// <summary>
    /// The mean of the softmax probabilities (the default). Each prediction counts by how confident it is, not by the scale
    /// of its logits, so members trained with different losses, label smoothing or temperatures mix fairly; it is what the
    /// Fashion-MNIST and CIFAR literature reports for TTA and ensembles.
    /// </summary>
    Probabilities,

    /// <summary>The mean of the logits (a geometric mean of the probabilities, renormalised). Cheaper to reason about for members of one training run.</summary>
    Logits,
}

/// <summary>Combines stacked predictions; the one place where TTA and ensembles average.</summary>
internal static class PredictionAverager
{
    /// <summary>
    /// Combines predictions stacked along dimension 0 (K×N×classes) into N×classes "logits" whose softmax is the averaged
    /// probability: log(mean softmax) for <see cref="PredictionAveraging.Probabilities"/> (computed as a log-mean-exp of
    /// log-softmax, which stays finite where a probability underflows), the mean logit for <see cref="PredictionAveraging.Logits"/>.
    /// </summary>
    public static Tensor Average(Tensor stacked, PredictionAveraging averaging)
    {
        using var scope = NewDisposeScope();
        long count = stacked.shape[0];
        var result = averaging == PredictionAveraging.Logits
            ? stacked.mean([0])
            : stacked.log_softmax(2).logsumexp(0, keepdim: false).sub(Math.Log(count));
        return scope.MoveToOuter(result);
    }
}
