using FashionVision.Models;
using FashionVision.Training;

namespace FashionVision.Cli.Infrastructure;

/// <summary>Rebuilds the zoo model a checkpoint was trained with, from the name and options in its manifest (pruned widths included).</summary>
internal static class CheckpointModels
{
    /// <summary>The zoo options the checkpoint's model was built with.</summary>
    public static ModelOptions Options(CheckpointManifest manifest, string path) =>
        manifest.ZooModelOptions() ?? throw new CliException(
            $"checkpoint {path} names no model of the zoo ('{manifest.ModelName}'); was it written by `fashionvision train`?", CliApp.UsageError);

    /// <summary>Loads the checkpoint and a model with its weights (the averaged weights when it has them), in eval mode.</summary>
    public static (ImageClassifier Model, CheckpointManifest Manifest) Load(FileInfo file)
    {
        if (!file.Exists)
            throw new CliException($"no such checkpoint: {file.FullName}");
        var checkpoint = Checkpoint.Load(file.FullName);
        Options(checkpoint.Manifest, file.FullName);
        return (checkpoint.CreateZooModel(), checkpoint.Manifest);
    }
}
