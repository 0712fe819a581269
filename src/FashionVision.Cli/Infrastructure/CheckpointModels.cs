using FashionVision.Models;
using FashionVision.Training;

namespace FashionVision.Cli.Infrastructure;

/// <summary>Rebuilds the zoo model a checkpoint was trained with, from the name and options in its manifest.</summary>
internal static class CheckpointModels
{
    public static ImageClassifier Create(CheckpointManifest manifest, string path)
    {
        if (string.IsNullOrEmpty(manifest.ModelName) || !ModelZoo.Contains(manifest.ModelName))
            throw new CliException($"checkpoint {path} names no model of the zoo ('{manifest.ModelName}'); was it written by `fashionvision train`?", CliApp.UsageError);
        var options = manifest.ModelOptionsJson is { Length: > 0 } json
            ? ModelOptions.FromJson(json)
            : ModelZoo.DefaultOptions(manifest.ModelName) with { NumClasses = manifest.ClassNames.Count };
        return ModelZoo.Create(manifest.ModelName, options with { Seed = null });
    }

    /// <summary>Loads the checkpoint and a model with its weights (the averaged weights when it has them), in eval mode.</summary>
    public static (ImageClassifier Model, CheckpointManifest Manifest) Load(FileInfo file)
    {
        if (!file.Exists)
            throw new CliException($"no such checkpoint: {file.FullName}");
        var checkpoint = Checkpoint.Load(file.FullName);
        var model = Create(checkpoint.Manifest, file.FullName);
        try
        {
            checkpoint.LoadWeightsInto(model);
            model.eval();
            return (model, checkpoint.Manifest);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
