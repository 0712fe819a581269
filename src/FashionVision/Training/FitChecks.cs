using FashionVision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>What <see cref="Trainer.Fit"/> checks before it trains: the datasets fit each other and the options, and the model takes the images and predicts the classes.</summary>
internal static class FitChecks
{
    /// <summary>Throws an <see cref="ArgumentException"/> when a dataset is empty or does not fit the other or the options.</summary>
    public static void Datasets(TrainerOptions options, InMemoryDataset trainSet, InMemoryDataset? validationSet)
    {
        ArgumentNullException.ThrowIfNull(trainSet);
        if (trainSet.Count == 0)
            throw new ArgumentException($"The training set '{trainSet.Name}' is empty.", nameof(trainSet));
        if (validationSet is not null)
        {
            if (validationSet.Count == 0)
                throw new ArgumentException($"The validation set '{validationSet.Name}' is empty.", nameof(validationSet));
            if (!validationSet.ClassNames.SequenceEqual(trainSet.ClassNames))
                throw new ArgumentException("The validation set's class names differ from the training set's.", nameof(validationSet));
            if (validationSet.ImageShape != trainSet.ImageShape)
                throw new ArgumentException($"The validation images are {validationSet.ImageShape} but the training images are {trainSet.ImageShape}.", nameof(validationSet));
        }
        else
        {
            if (options.EarlyStopping is not null)
                throw new ArgumentException("TrainerOptions.EarlyStopping needs a validation set.", nameof(TrainerOptions.EarlyStopping));
            if (options.Scheduler.Kind == SchedulerKind.ReduceOnPlateau)
                throw new ArgumentException("TrainerOptions.Scheduler ReduceOnPlateau needs a validation set.", "Scheduler.Kind");
            if (options.StopAtAccuracy is not null)
                throw new ArgumentException("TrainerOptions.StopAtAccuracy needs a validation set.", nameof(TrainerOptions.StopAtAccuracy));
        }
    }

    /// <summary>Throws an <see cref="ArgumentException"/> when the model cannot take one training image or does not predict one score per class.</summary>
    public static void ModelOutput(nn.Module<Tensor, Tensor> model, Device device, InMemoryDataset trainSet)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var sample = trainSet.Images.narrow(0, 0, 1).to(device).to_type(ScalarType.Float32).div(255f);
            Tensor output;
            try
            {
                output = model.forward(sample);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new ArgumentException($"The model cannot take the training images ({trainSet.ImageShape}): {e.Message}", "model", e);
            }
            if (output.dim() != 2 || output.shape[1] != trainSet.NumClasses)
                throw new ArgumentException(
                    $"The model outputs [{string.Join(", ", output.shape)}] per batch but the training set '{trainSet.Name}' has {trainSet.NumClasses} classes: the model's class count (e.g. ModelOptions.NumClasses) must equal the dataset's.",
                    "model");
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
