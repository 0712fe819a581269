namespace FashionVision.TorchVision.Weights;

/// <summary>What <see cref="PyTorchWeights.Load"/> did, in the model's key names.</summary>
/// <param name="Path">The file.</param>
/// <param name="Format">The format it was read in.</param>
/// <param name="Loaded">Model keys that received values.</param>
/// <param name="Missing">Model keys the file lacks (after a strict load only BatchNorm counters and a kept head).</param>
/// <param name="Unexpected">File keys the model has no place for (empty after a strict load).</param>
/// <param name="KeptHead">Classifier keys left as the model had them because the file's shapes differ (another class count).</param>
/// <param name="AdaptedInputChannels">Convolution weights summed over their RGB input channels for a one-channel model.</param>
public sealed record WeightLoadReport(
    string Path,
    WeightFileFormat Format,
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> KeptHead,
    IReadOnlyList<string> AdaptedInputChannels)
{
    /// <summary>One line for a log or a console.</summary>
    public override string ToString()
    {
        var parts = new List<string> { $"loaded {Loaded.Count} tensors from '{Path}' ({Format})" };
        if (KeptHead.Count > 0)
            parts.Add($"kept the model's own head ({string.Join(", ", KeptHead)}: the file's has another shape)");
        if (AdaptedInputChannels.Count > 0)
            parts.Add($"summed {string.Join(", ", AdaptedInputChannels)} over RGB for one input channel");
        var missing = Missing.Except(KeptHead).ToList();
        if (missing.Count > 0)
            parts.Add($"{missing.Count} model key(s) not in the file");
        if (Unexpected.Count > 0)
            parts.Add($"{Unexpected.Count} file key(s) not in the model");
        return string.Join("; ", parts);
    }
}
