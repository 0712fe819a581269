using System.Globalization;
using System.Text.Json.Serialization;

namespace FashionVision.Models;

/// <summary>
/// The input preprocessing a model applies to itself (see <see cref="PreprocessedClassifier"/>): resize to
/// <see cref="Size"/>×<see cref="Size"/>, repeat a grey channel into <see cref="Channels"/>, then normalise each channel with
/// <see cref="Mean"/> and <see cref="Std"/>, in that order. Every step is optional.
/// </summary>
/// <remarks>
/// Because the steps are part of the model's forward pass, the Trainer, the Evaluator, the Predictor, Grad-CAM and the ONNX
/// export all apply them the same way, and a checkpoint carries them (inside <see cref="ModelOptions.Preprocessing"/>), so
/// every model rebuilt from it gets them too. <see cref="ImageNet"/> is what torchvision's ImageNet models expect.
/// </remarks>
/// <example>
/// <code>
/// // 28×28 grey Fashion-MNIST into torchvision's ResNet-18: resized to 224, grey repeated to RGB, ImageNet mean/std.
/// var options = new ModelOptions { InputChannels = 1, NumClasses = 10, Preprocessing = InputPreprocessing.ImageNet(224) };
/// using var model = ModelZoo.Create("resnet18-imagenet", options);   // takes N×1×28×28 in [0, 1]
/// </code>
/// </example>
public sealed record InputPreprocessing
{
    /// <summary>The per-channel mean of ImageNet (RGB), as torchvision's models expect.</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>The per-channel standard deviation of ImageNet (RGB), as torchvision's models expect.</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>Resize (bilinear, antialiased when shrinking) to this height and width in pixels; null keeps the input size.</summary>
    public int? Size { get; init; }

    /// <summary>Repeat a single grey channel into this many channels (3 for RGB models); null keeps the channels.</summary>
    public int? Channels { get; init; }

    /// <summary>Per-channel mean subtracted from [0, 1] pixels after resizing and channel repetition; null: no normalisation.</summary>
    public float[]? Mean { get; init; }

    /// <summary>Per-channel standard deviation divided by after subtracting <see cref="Mean"/>; given together with it.</summary>
    public float[]? Std { get; init; }

    /// <summary>Whether the preprocessing normalises (so the data pipeline must not normalise again).</summary>
    [JsonIgnore]
    public bool Normalizes => Mean is not null;

    /// <summary>torchvision's ImageNet preprocessing for grey images: resize to <paramref name="size"/>, grey → RGB, ImageNet mean/std.</summary>
    /// <param name="size">The side the model sees (224 for the ImageNet weights' native resolution; smaller is cheaper).</param>
    public static InputPreprocessing ImageNet(int size = 224) => new()
    {
        Size = size,
        Channels = 3,
        Mean = ImageNetMean.ToArray(),
        Std = ImageNetStd.ToArray(),
    };

    /// <summary>Only the per-channel normalisation (e.g. a checkpoint's training statistics folded into the model).</summary>
    /// <param name="mean">Per-channel means.</param>
    /// <param name="std">Per-channel standard deviations.</param>
    public static InputPreprocessing Normalization(IReadOnlyList<float> mean, IReadOnlyList<float> std) => new()
    {
        Mean = mean?.ToArray() ?? throw new ArgumentNullException(nameof(mean)),
        Std = std?.ToArray() ?? throw new ArgumentNullException(nameof(std)),
    };

    /// <summary>The channels the wrapped model receives for inputs of <paramref name="inputChannels"/> channels.</summary>
    /// <param name="inputChannels">Channels of the raw input.</param>
    public int OutputChannels(int inputChannels) => Channels ?? inputChannels;

    /// <summary>
    /// Checks the preprocessing for inputs of <paramref name="inputChannels"/> channels and throws an
    /// <see cref="ArgumentException"/> naming the property at fault.
    /// </summary>
    /// <param name="inputChannels">Channels of the raw input.</param>
    public void Validate(int inputChannels)
    {
        if (Size is int size && size <= 0)
            throw new ArgumentOutOfRangeException(nameof(Size), size, "InputPreprocessing.Size must be positive.");
        if (Channels is int channels && channels != inputChannels && !(inputChannels == 1 && channels > 1))
            throw new ArgumentException(
                $"InputPreprocessing.Channels = {channels} cannot be made from {inputChannels}-channel inputs: only one grey channel can be repeated.", nameof(Channels));
        if ((Mean is null) != (Std is null))
            throw new ArgumentException("InputPreprocessing.Mean and Std must be given together.", Mean is null ? nameof(Mean) : nameof(Std));
        if (Mean is null || Std is null)
            return;
        int expected = OutputChannels(inputChannels);
        if (Mean.Length != expected || Std.Length != expected)
            throw new ArgumentException($"InputPreprocessing.Mean and Std need {expected} values each (one per channel); got {Mean.Length} and {Std.Length}.", nameof(Mean));
        if (Mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException("Every InputPreprocessing.Mean value must be finite.", nameof(Mean));
        if (Std.Any(s => !float.IsFinite(s) || s <= 0))
            throw new ArgumentException("Every InputPreprocessing.Std value must be finite and positive.", nameof(Std));
    }

    /// <inheritdoc />
    public bool Equals(InputPreprocessing? other) =>
        other is not null && Size == other.Size && Channels == other.Channels && SameValues(Mean, other.Mean) && SameValues(Std, other.Std);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Size);
        hash.Add(Channels);
        foreach (var m in Mean ?? [])
            hash.Add(m);
        foreach (var s in Std ?? [])
            hash.Add(s);
        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var steps = new List<string>();
        if (Size is int size)
            steps.Add($"resize to {size}×{size}");
        if (Channels is int channels)
            steps.Add($"{channels} channels");
        if (Mean is not null && Std is not null)
            steps.Add($"normalise mean=[{Format(Mean)}] std=[{Format(Std)}]");
        return steps.Count == 0 ? "none" : string.Join(", ", steps);
    }

    private static string Format(float[] values) => string.Join(", ", values.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)));

    private static bool SameValues(float[]? a, float[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
