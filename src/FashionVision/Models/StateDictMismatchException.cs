namespace FashionVision.Models;

/// <summary>
/// Weights do not fit a model: lists the keys the model has but the weights lack (missing), the keys the weights have but
/// the model lacks (unexpected), and the keys whose shapes differ (mismatched).
/// </summary>
public sealed class StateDictMismatchException : Exception
{
    private const int ListedPerKind = 20;

    /// <summary>Creates the exception.</summary>
    /// <param name="source">Where the weights came from (a file name, or a description).</param>
    /// <param name="missing">Keys of the model absent from the weights.</param>
    /// <param name="unexpected">Keys of the weights absent from the model.</param>
    /// <param name="mismatched">Keys present in both with different shapes.</param>
    public StateDictMismatchException(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<ShapeMismatch> mismatched)
        : base(Format(source, missing, unexpected, mismatched))
    {
        Missing = missing;
        Unexpected = unexpected;
        Mismatched = mismatched;
    }

    /// <summary>Keys of the model absent from the weights.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Keys of the weights absent from the model.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Keys present in both whose shapes differ.</summary>
    public IReadOnlyList<ShapeMismatch> Mismatched { get; }

    private static string Format(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<ShapeMismatch> mismatched)
    {
        var parts = new List<string>();
        if (missing.Count > 0)
            parts.Add($"{missing.Count} missing key(s): {List(missing)}");
        if (unexpected.Count > 0)
            parts.Add($"{unexpected.Count} unexpected key(s): {List(unexpected)}");
        if (mismatched.Count > 0)
            parts.Add($"{mismatched.Count} shape mismatch(es): {List(mismatched.Select(m => m.ToString()).ToList())}");
        return $"The weights from '{source}' do not fit the model: {string.Join("; ", parts)}.";
    }

    private static string List(IReadOnlyList<string> keys) =>
        string.Join(", ", keys.Take(ListedPerKind)) + (keys.Count > ListedPerKind ? $", … ({keys.Count - ListedPerKind} more)" : "");
}

/// <summary>A key whose shape in the model differs from its shape in the weights.</summary>
/// <param name="Key">The state-dict key (in the model's naming).</param>
/// <param name="Expected">The model's shape.</param>
/// <param name="Actual">The shape in the weights.</param>
public sealed record ShapeMismatch(string Key, long[] Expected, long[] Actual)
{
    /// <inheritdoc />
    public override string ToString() => $"{Key} (model [{string.Join(", ", Expected)}], weights [{string.Join(", ", Actual)}])";
}
