using FashionVision.Data;
using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Training;
using static TorchSharp.torch;

namespace FashionVision.Cli.Infrastructure;

/// <summary>Rebuilds the zoo model a checkpoint was trained with (<see cref="Checkpoint.CreateZooModel"/>), or an ensemble of several.</summary>
internal static class CheckpointModels
{
    /// <summary>The input a checkpoint's model expects: channels, height, width (every checkpoint the Trainer writes records it).</summary>
    public static (int Channels, int Height, int Width) InputShape(CheckpointManifest manifest) => manifest.InputShape is [int channels, int height, int width]
        ? (channels, height, width)
        : throw new CliException($"the checkpoint of {manifest.ModelName} records no input shape; was it written by `fashionvision train`?", CliApp.Failure);

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

    /// <summary>
    /// The model a command runs: the checkpoint's own (with the normalisation its inputs need), or, when
    /// <paramref name="ensemble"/> names more checkpoints, the ensemble of all of them (members normalise their own inputs).
    /// </summary>
    public static (nn.Module<Tensor, Tensor> Model, CheckpointManifest Manifest, ChannelStatistics? Normalization) LoadForInference(FileInfo file, IReadOnlyList<FileInfo> ensemble)
    {
        if (ensemble.Count == 0)
        {
            var (model, manifest) = Load(file);
            return (model, manifest, manifest.Normalization);
        }
        if (!file.Exists)
            throw new CliException($"no such checkpoint: {file.FullName}");
        var members = EnsembleClassifier.FromCheckpoints([file.FullName, .. ensemble.Select(f => f.FullName)]);
        return (members, members.Manifests[0], null);
    }

    /// <summary>How a loaded model is described in one line: its zoo name, or the ensemble's members.</summary>
    public static string Describe(nn.Module<Tensor, Tensor> model, CheckpointManifest manifest, FileInfo file) => model is EnsembleClassifier ensemble
        ? $"ensemble of {ensemble.Members.Count} ({string.Join(", ", ensemble.Manifests.Select(m => m.ModelName))})"
        : $"{manifest.ModelName} ({file.Name}, epoch {manifest.Epoch})";
}
