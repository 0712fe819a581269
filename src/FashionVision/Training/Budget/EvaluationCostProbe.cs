using FashionVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Measures what the evaluation after training costs per image, on this machine, for this model: forward passes as the
/// <c>Evaluator</c> runs them (eval mode, no gradients, <c>Module.call</c>, softmax, the probabilities copied to the CPU,
/// which also waits for an accelerator), at the evaluation's batch size and in the precision the model has after
/// <see cref="Trainer.Fit"/>, timed on <see cref="TrainerOptions.TimeProvider"/> after one warm-up batch.
/// </summary>
/// <remarks>The input is random normal pixels of the training images' shape (what normalised data looks like), drawn from
/// a generator of its own, so the probe changes neither the model nor any of the run's random streams.</remarks>
internal static class EvaluationCostProbe
{
    /// <summary>Batches timed after the warm-up batch.</summary>
    internal const int TimedBatches = 2;

    /// <summary>Seconds one image of the evaluation takes.</summary>
    /// <param name="trainer">The trainer whose model, device, input shape and evaluation batch size count.</param>
    /// <param name="images">The images the evaluation will see (the batch is no larger).</param>
    public static double SecondsPerImage(Trainer trainer, long images)
    {
        var model = trainer.Model;
        var time = trainer.Options.TimeProvider;
        var (channels, height, width) = trainer.InputShape;
        int batchSize = (int)Math.Max(1, Math.Min(trainer.Options.EvaluationBatchSize, images));
        bool wasTraining = model.training;
        var classifier = model as ImageClassifier;
        var trainingPrecision = classifier?.Precision;
        try
        {
            model.eval();
            if (classifier is not null)
                classifier.Precision = trainer.PrecisionAfterFit;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var generator = new torch.Generator(0x5EED);
            var batch = randn(new long[] { batchSize, channels, height, width }, generator: generator).to(trainer.Device);
            Run(model, batch);
            long start = time.GetTimestamp();
            for (int i = 0; i < TimedBatches; i++)
                Run(model, batch);
            return time.GetElapsedTime(start).TotalSeconds / (TimedBatches * (double)batchSize);
        }
        finally
        {
            if (classifier is not null)
                classifier.Precision = trainingPrecision!.Value;
            model.train(wasTraining);
        }
    }

    private static void Run(nn.Module<Tensor, Tensor> model, Tensor batch)
    {
        using var scope = NewDisposeScope();
        model.call(batch).softmax(1).cpu();
    }
}
