using FashionVision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>One pass over a validation loader: the mean cross-entropy, the accuracy and the confusion matrix, accumulated on the device and read once.</summary>
internal static class ValidationPass
{
    /// <summary>Runs <paramref name="model"/> over <paramref name="loader"/> in eval mode without gradients, and puts it back in training mode.</summary>
    public static ValidationResult Run(nn.Module<Tensor, Tensor> model, DataLoader loader, int classes, Device device, int epoch)
    {
        model.eval();
        try
        {
            return Accumulate(model, loader, classes, device, epoch);
        }
        finally
        {
            model.train();
        }
    }

    private static ValidationResult Accumulate(nn.Module<Tensor, Tensor> model, DataLoader loader, int classes, Device device, int epoch)
    {
        using var noGrad = no_grad();
        using var lossSum = zeros(1, ScalarType.Float64, device);
        using var correct = zeros(1, ScalarType.Int64, device);
        using var confusion = zeros(classes * classes, ScalarType.Int64, device);
        foreach (var batch in loader.GetBatches(0))
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(batch.Images);
            logits = logits.dtype == ScalarType.Float32 ? logits : logits.to_type(ScalarType.Float32);
            var predicted = logits.argmax(1);
            lossSum.add_(nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64));
            correct.add_(predicted.eq(batch.Labels).sum());
            confusion.add_(batch.Labels.mul(classes).add(predicted).bincount(null, classes * classes));
        }
        double n = loader.Count;
        return new ValidationResult(epoch, lossSum.item<double>() / n, correct.item<long>() / n) { ConfusionMatrix = ToMatrix(confusion, classes) };
    }

    private static long[,] ToMatrix(Tensor counts, int classes)
    {
        using var scope = NewDisposeScope();
        var flat = counts.cpu().data<long>().ToArray();
        var matrix = new long[classes, classes];
        Buffer.BlockCopy(flat, 0, matrix, 0, flat.Length * sizeof(long));
        return matrix;
    }
}
