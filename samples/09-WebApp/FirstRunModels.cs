using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Onnx;
using FashionVision.Training;

namespace FashionVision.WebApp;

/// <summary>
/// Models for a first start with none configured: a fast-cnn (FashionVision:FirstRun:Model) trained briefly on Fashion-MNIST (for photos) and one on MNIST
/// (for drawn digits), each saved as a checkpoint (for Grad-CAM) and exported to ONNX (for predictions). They are trained once
/// into a folder and reused on later starts. A real deployment configures its own models instead (see Program.cs).
/// </summary>
internal static class FirstRunModels
{
    /// <summary>Where first-run models go when FashionVision:FirstRun:Folder is empty.</summary>
    public static string DefaultFolder =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache
            ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "fashionvision", "webapp");

    /// <summary>Trains (unless already there) and returns the configuration entries that serve the two models.</summary>
    public static Dictionary<string, string?> Ensure(string folder, string model, int trainImages, int epochs, ILogger logger)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var (name, source, style) in new (string, IDatasetSource, string)[]
                 {
                     ("fashion", new FashionMnistSource(), "FashionMnist"),
                     ("digits", new MnistSource(), "Mnist"),
                 })
        {
            var checkpoint = Path.Combine(folder, $"{name}-{model}.ckpt");
            var onnx = Path.Combine(folder, $"{name}-{model}.onnx");
            if (File.Exists(onnx) && File.Exists(checkpoint))
                logger.LogInformation("Using the first-run model {Name} in {Folder}", name, folder);
            else
                Train(source, model, trainImages, epochs, checkpoint, onnx, logger);
            var prefix = $"FashionVision:Models:{name}:";
            settings[prefix + "OnnxPath"] = onnx;
            settings[prefix + "CheckpointPath"] = checkpoint;
            settings[prefix + "Style"] = style;
        }
        settings["FashionVision:DefaultModel"] = "fashion";
        return settings;
    }

    private static void Train(IDatasetSource source, string modelName, int trainImages, int epochs, string checkpoint, string onnx, ILogger logger)
    {
        logger.LogWarning("No model is configured: training {Model} on {Images:N0} {Dataset} images for {Epochs} epoch(s), once; the files go to {Folder}",
            modelName, trainImages, source.Name, epochs, Path.GetDirectoryName(onnx));
        using var all = source.Load(DatasetSplit.Train);
        using var train = all.Take(trainImages);
        using var model = ModelZoo.Create(modelName, new ModelOptions { Seed = 42 });
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = epochs, Seed = 42, Logger = logger }.WithZooModel(modelName));
        var history = trainer.Fit(train);
        trainer.SaveCheckpoint(checkpoint);
        var stats = trainer.Normalization!;
        OnnxExporter.Export(model, onnx, new OnnxExportOptions { ClassNames = train.ClassNames, Mean = stats.Mean, Std = stats.Std, GraphName = source.Name });
        logger.LogInformation("Trained {Dataset}: training accuracy {Accuracy:P1}; wrote {Checkpoint} and {Onnx}", source.Name, history.Epochs[^1].TrainAccuracy, checkpoint, onnx);
    }
}
