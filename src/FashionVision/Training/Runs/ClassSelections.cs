using System.Globalization;
using FashionVision.Transforms;

namespace FashionVision.Training;

/// <summary>
/// Reads the run settings that name classes (<see cref="TrainingSpec.ClassWeights"/>, <see cref="TrainingSpec.TargetedAugmentation"/>;
/// the CLI's <c>--class-weights</c>, <c>--targeted-augmentation</c>): a class is its index or its name (case-insensitive),
/// e.g. <c>6</c> or <c>Shirt</c>. Bad input is an <see cref="ArgumentException"/> naming the setting.
/// </summary>
public static class ClassSelections
{
    /// <summary>
    /// Per-class loss weights: either one number per class (<c>1,1,1,1,1,1,2,1,1,1</c>) or <c>class=weight</c> pairs
    /// (<c>Shirt=2,T-shirt/top=1.5</c>), the other classes weighing 1.
    /// </summary>
    public static float[] ClassWeights(string text, IReadOnlyList<string> classNames)
    {
        var parts = SplitList(text);
        var weights = Enumerable.Repeat(1f, classNames.Count).ToArray();
        if (parts.Length > 0 && parts.All(p => !p.Contains('=')))
        {
            if (parts.Length != classNames.Count)
                throw new ArgumentException($"Training.ClassWeights (--class-weights) has {parts.Length} numbers for {classNames.Count} classes; give one per class or class=weight pairs.", "Training.ClassWeights");
            for (int i = 0; i < parts.Length; i++)
                weights[i] = Weight(parts[i]);
            return weights;
        }
        foreach (var part in parts)
        {
            int equals = part.LastIndexOf('=');
            if (equals <= 0)
                throw new ArgumentException($"Training.ClassWeights (--class-weights): '{part}' is not class=weight (e.g. Shirt=2).", "Training.ClassWeights");
            weights[ClassIndex(part[..equals].Trim(), classNames, "Training.ClassWeights (--class-weights)")] = Weight(part[(equals + 1)..].Trim());
        }
        return weights;
    }

    /// <summary>
    /// <c>PRESET:CLASSES</c>, e.g. <c>standard:Shirt,T-shirt/top</c>: the augmentation preset applied only to samples of those
    /// classes (<see cref="ClassConditional"/>), before the run's own augmentation.
    /// </summary>
    public static ClassConditional TargetedAugmentation(string text, IReadOnlyList<string> classNames, bool flip)
    {
        int colon = text.IndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            throw new ArgumentException($"Training.TargetedAugmentation (--targeted-augmentation) '{text}' is not PRESET:CLASSES (e.g. standard:Shirt,T-shirt/top).", "Training.TargetedAugmentation");
        string preset = text[..colon].Trim();
        if (!AugmentationPresets.Names.Contains(preset, StringComparer.OrdinalIgnoreCase) || preset.Equals("none", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"Training.TargetedAugmentation (--targeted-augmentation): unknown preset '{preset}'. Valid presets: {string.Join(", ", AugmentationPresets.Names.Skip(1))}.", "Training.TargetedAugmentation");
        var classes = SplitList(text[(colon + 1)..]).Select(c => ClassIndex(c, classNames, "Training.TargetedAugmentation (--targeted-augmentation)")).ToArray();
        if (classes.Length == 0)
            throw new ArgumentException("Training.TargetedAugmentation (--targeted-augmentation) names no class.", "Training.TargetedAugmentation");
        return new ClassConditional(AugmentationPresets.Get(preset, classNames.Count, flip), classes);
    }

    private static int ClassIndex(string name, IReadOnlyList<string> classNames, string option)
    {
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < classNames.Count)
            return index;
        for (int i = 0; i < classNames.Count; i++)
            if (string.Equals(classNames[i], name, StringComparison.OrdinalIgnoreCase))
                return i;
        throw new ArgumentException($"{option}: '{name}' is neither a class index below {classNames.Count} nor a class name ({string.Join(", ", classNames)}).", option.Split(' ')[0]);
    }

    private static float Weight(string text) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float w) && float.IsFinite(w) && w > 0
            ? w
            : throw new ArgumentException($"Training.ClassWeights (--class-weights): '{text}' is not a positive number.", "Training.ClassWeights");

    private static string[] SplitList(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
