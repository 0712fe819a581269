using System.Globalization;
using FashionVision.Evaluation;
using FashionVision.IO;
using static TorchSharp.torch;

namespace FashionVision.Visualization;

/// <summary>
/// Draws the most suspicious training images of a <see cref="LabelNoiseReport"/> as a grid, each captioned with its index,
/// its given label and what the models think it is: "#1234", "given: Shirt", "looks like: T-shirt 97%".
/// </summary>
public static class LabelIssueGrid
{
    /// <summary>Renders the grid as PNG bytes; null when there are no issues.</summary>
    /// <param name="images">The dataset's images N×C×H×W (uint8 or float in [0, 1]), indexed by <see cref="LabelIssue.Index"/>.</param>
    /// <param name="issues">The issues, most suspicious first (e.g. <see cref="LabelNoiseReport.Issues"/>).</param>
    /// <param name="classNames">Class names by index.</param>
    /// <param name="maxImages">The most images shown (the first ones of <paramref name="issues"/>).</param>
    /// <param name="options">Grid layout; null for 6 columns and the default scale.</param>
    /// <exception cref="ArgumentException">An issue's index or label is out of range.</exception>
    public static byte[]? RenderPng(Tensor images, IReadOnlyList<LabelIssue> issues, IReadOnlyList<string> classNames, int maxImages = 36, ImageGridOptions? options = null)
    {
        TensorImages.ValidateBatch(images, nameof(images));
        ArgumentNullException.ThrowIfNull(issues);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxImages, 1);
        var shown = issues.Take(maxImages).ToArray();
        if (shown.Length == 0)
            return null;
        foreach (var issue in shown)
        {
            if (issue.Index < 0 || issue.Index >= images.shape[0])
                throw new ArgumentException($"Issue index {issue.Index} is outside the {images.shape[0]} images.", nameof(issues));
            if (issue.GivenLabel < 0 || issue.GivenLabel >= classNames.Count || issue.SuggestedLabel < 0 || issue.SuggestedLabel >= classNames.Count)
                throw new ArgumentException($"Issue {issue.Index} has a label outside the {classNames.Count} classes.", nameof(issues));
        }
        var captions = shown.Select(issue => new ImageCaption(
            string.Create(CultureInfo.InvariantCulture,
                $"#{issue.Index}{(issue.ModelsAgainst is { } against ? $" ({against} against)" : "")}\ngiven: {classNames[issue.GivenLabel]}\nlooks like: {classNames[issue.SuggestedLabel]} {issue.SuggestedConfidence * 100:0}%"),
            IsError: true)).ToArray();
        using var scope = NewDisposeScope();
        var index = tensor(shown.Select(i => i.Index).ToArray()).to(images.device);
        return ImageGrid.RenderPng(images.index_select(0, index), captions, options ?? new ImageGridOptions(Columns: Math.Min(6, shown.Length), Scale: 3));
    }

    /// <summary>Writes the grid to a PNG file atomically; returns false (and writes nothing) when there are no issues.</summary>
    /// <param name="images">The dataset's images N×C×H×W.</param>
    /// <param name="issues">The issues, most suspicious first.</param>
    /// <param name="classNames">Class names by index.</param>
    /// <param name="path">The file to write.</param>
    /// <param name="maxImages">The most images shown.</param>
    /// <param name="options">Grid layout; null for the defaults.</param>
    public static bool SavePng(Tensor images, IReadOnlyList<LabelIssue> issues, IReadOnlyList<string> classNames, string path, int maxImages = 36, ImageGridOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var png = RenderPng(images, issues, classNames, maxImages, options);
        if (png is null)
            return false;
        AtomicFile.WriteAllBytes(path, png);
        return true;
    }
}
