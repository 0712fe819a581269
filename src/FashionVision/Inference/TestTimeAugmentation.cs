using System.Globalization;
using FashionVision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Inference;

/// <summary>
/// One test-time view of an image: optionally mirrored left to right, then shifted by (<see cref="ShiftX"/>,
/// <see cref="ShiftY"/>) pixels (positive: right, down); pixels shifted in are black.
/// </summary>
/// <param name="HorizontalFlip">Mirror the image first.</param>
/// <param name="ShiftX">Horizontal shift in pixels (positive: the content moves right).</param>
/// <param name="ShiftY">Vertical shift in pixels (positive: the content moves down).</param>
public readonly record struct TtaView(bool HorizontalFlip, int ShiftX, int ShiftY)
{
    /// <summary>The image as it is.</summary>
    public static TtaView Identity => default;

    /// <summary>Whether the view leaves the image unchanged.</summary>
    public bool IsIdentity => !HorizontalFlip && ShiftX == 0 && ShiftY == 0;

    /// <inheritdoc />
    public override string ToString()
    {
        if (IsIdentity)
            return "identity";
        string shift = ShiftX == 0 && ShiftY == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"shift({ShiftX:+0;-0;0},{ShiftY:+0;-0;0})");
        return HorizontalFlip ? (shift.Length == 0 ? "flip" : "flip+" + shift) : shift;
    }
}

/// <summary>
/// Test-time augmentation: a model's predictions over several views of each image (<see cref="TtaView"/>: identity, mirror,
/// ±k-pixel shifts and their combinations), averaged (<see cref="PredictionAveraging"/>, the mean of the softmax
/// probabilities by default). Every view is a tensor operation over the whole batch.
/// </summary>
/// <remarks>
/// <para><see cref="Evaluation.EvaluatorOptions"/> and <see cref="Predictor"/> take a policy; <see cref="TtaClassifier"/> wraps a model
/// in one (e.g. to export the averaged graph to ONNX). A policy of one identity view is the plain model.</para>
/// <para>Shifts bring in black pixels (intensity 0, the background of Fashion-MNIST and MNIST). When the model's inputs
/// are already normalised, pass the normalisation so that "black" is its normalised value, not 0.</para>
/// <para>Mirroring suits clothing, not digits: use <see cref="Shifts"/> for MNIST.</para>
/// </remarks>
/// <example>
/// <code>
/// var result = Evaluator.Evaluate(model, test, new EvaluatorOptions { Normalization = stats, Tta = TestTimeAugmentation.Parse("flip,shift1") });
/// </code>
/// </example>
public sealed class TestTimeAugmentation
{
    private readonly TtaView[] _views;
    private string? _name;

    /// <summary>Creates a policy from its views (at least one, no duplicates).</summary>
    /// <param name="views">The views, in the order they are run.</param>
    /// <param name="averaging">How the views' predictions are combined.</param>
    /// <exception cref="ArgumentException">No views, duplicates, or an undefined averaging.</exception>
    public TestTimeAugmentation(IEnumerable<TtaView> views, PredictionAveraging averaging = PredictionAveraging.Probabilities)
    {
        ArgumentNullException.ThrowIfNull(views);
        _views = views.ToArray();
        if (_views.Length == 0)
            throw new ArgumentException("A test-time augmentation needs at least one view.", nameof(views));
        if (_views.Distinct().Count() != _views.Length)
            throw new ArgumentException("The test-time views must be distinct.", nameof(views));
        if (!Enum.IsDefined(averaging))
            throw new ArgumentOutOfRangeException(nameof(averaging), averaging, "Unknown averaging.");
        Averaging = averaging;
    }

    /// <summary>The views, in the order they are run.</summary>
    public IReadOnlyList<TtaView> Views => _views;

    /// <summary>How the views' predictions are combined.</summary>
    public PredictionAveraging Averaging { get; }

    /// <summary>Whether this is the plain model (one identity view).</summary>
    public bool IsIdentity => _views is [{ IsIdentity: true }];

    /// <summary>The plain model: one identity view.</summary>
    public static TestTimeAugmentation None { get; } = new([TtaView.Identity]);

    /// <summary>The image and its mirror (2 views).</summary>
    public static TestTimeAugmentation HorizontalFlip { get; } = Combine(flip: true, shift: 0);

    /// <summary>The image and its shifts by ±<paramref name="pixels"/> horizontally and vertically (5 views).</summary>
    /// <param name="pixels">The shift, at least 1.</param>
    public static TestTimeAugmentation Shifts(int pixels) => Combine(flip: false, shift: CheckShift(pixels));

    /// <summary>Every combination of {image, mirror} × {no shift, ±<paramref name="pixels"/> horizontally, ±<paramref name="pixels"/> vertically} (10 views).</summary>
    /// <param name="pixels">The shift, at least 1.</param>
    public static TestTimeAugmentation FlipAndShifts(int pixels) => Combine(flip: true, shift: CheckShift(pixels));

    /// <summary>
    /// Parses a policy written as comma-separated parts: <c>none</c> (the plain model), <c>flip</c> (add the mirror),
    /// <c>shiftK</c> (add ±K-pixel shifts, e.g. <c>shift1</c>); <c>flip,shift1</c> is every combination (10 views).
    /// </summary>
    /// <param name="text">The policy, e.g. <c>flip</c>, <c>shift2</c> or <c>flip,shift1</c> (case-insensitive).</param>
    /// <param name="averaging">How the views' predictions are combined.</param>
    /// <exception cref="FormatException">A part is not <c>none</c>, <c>flip</c> or <c>shiftK</c> with K ≥ 1, or two shifts are given.</exception>
    public static TestTimeAugmentation Parse(string text, PredictionAveraging averaging = PredictionAveraging.Probabilities)
    {
        ArgumentNullException.ThrowIfNull(text);
        bool flip = false;
        int shift = 0;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
            throw new FormatException("The test-time augmentation is empty; use none, flip, shiftK or a comma-separated combination such as flip,shift1.");
        foreach (var part in parts.Select(p => p.ToLowerInvariant()))
        {
            if (part == "none" || part == "identity")
                continue;
            if (part == "flip")
                flip = true;
            else if (part.StartsWith("shift", StringComparison.Ordinal)
                     && int.TryParse(part.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k >= 1 && shift == 0)
                shift = k;
            else
                throw new FormatException($"Unknown test-time augmentation '{part}' in '{text}': use none, flip or shiftK (K ≥ 1, once), comma-separated, e.g. flip,shift1.");
        }
        var policy = Combine(flip, shift);
        return averaging == PredictionAveraging.Probabilities ? policy : new TestTimeAugmentation(policy.Views, averaging) { _name = policy._name };
    }

    /// <summary>The policy in the form <see cref="Parse"/> reads (e.g. <c>flip,shift1</c>) when it was made that way, else its views.</summary>
    public string Describe() => _name ?? string.Join(" ", _views.Select(v => v.ToString()));


    /// <inheritdoc />
    public override string ToString() => Describe() + (Averaging == PredictionAveraging.Logits ? " (mean logits)" : "");

    /// <summary>
    /// The per-channel value of a black pixel in model-input units: −mean/std when the inputs are normalised with
    /// <paramref name="normalization"/>, null (0) when they are raw [0, 1] pixels.
    /// </summary>
    /// <param name="normalization">The normalisation already applied to the inputs, or null.</param>
    public static float[]? BlackLevel(ChannelStatistics? normalization) =>
        normalization is null ? null : normalization.Mean.Zip(normalization.Std, (m, s) => -m / s).ToArray();

    /// <summary>Applies one view to a batch N×C×H×W (a flip and a pad-and-crop over the whole batch).</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="view">The view.</param>
    /// <param name="fill">The per-channel value of the pixels a shift brings in (<see cref="BlackLevel"/>); null: 0.</param>
    /// <exception cref="ArgumentException">The images are not 4-D, the fill does not have one value per channel, or a shift is as large as the image.</exception>
    public static Tensor ApplyView(Tensor images, TtaView view, IReadOnlyList<float>? fill = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be N×C×H×W; got [{string.Join(", ", images.shape)}].", nameof(images));
        long height = images.shape[2], width = images.shape[3];
        if (Math.Abs(view.ShiftX) >= width || Math.Abs(view.ShiftY) >= height)
            throw new ArgumentException($"The view {view} shifts a {height}×{width} image out of the frame.", nameof(view));
        if (fill is not null && fill.Count != images.shape[1])
            throw new ArgumentException($"The fill has {fill.Count} values for {images.shape[1]} channels.", nameof(fill));
        using var scope = NewDisposeScope();
        var x = view.HorizontalFlip ? images.flip(3) : images.alias();
        if (view.ShiftX != 0 || view.ShiftY != 0)
        {
            bool filled = fill is not null && fill.Any(f => f != 0);
            var level = filled ? tensor(fill!.ToArray(), [1, fill!.Count, 1, 1], dtype: x.dtype, device: x.device) : null;
            if (level is not null)
                x = x - level;
            // Pad on the side the content moves away from, then cut the frame back out.
            int dx = view.ShiftX, dy = view.ShiftY;
            x = nn.functional.pad(x, [Math.Max(dx, 0), Math.Max(-dx, 0), Math.Max(dy, 0), Math.Max(-dy, 0)])
                .narrow(2, Math.Max(-dy, 0), height).narrow(3, Math.Max(-dx, 0), width);
            if (level is not null)
                x = x + level;
        }
        return scope.MoveToOuter(x);
    }

    /// <summary>
    /// Runs <paramref name="model"/> on every view of <paramref name="images"/> and combines the results into N×classes
    /// logits whose softmax is the averaged prediction (see <see cref="PredictionAveraging"/>). One view: the model's own logits.
    /// </summary>
    /// <param name="model">The classifier (its mode is the caller's; use eval mode).</param>
    /// <param name="images">Model inputs N×C×H×W.</param>
    /// <param name="fill">The value of a black pixel in model-input units (<see cref="BlackLevel"/>); null: 0.</param>
    public Tensor Forward(nn.Module<Tensor, Tensor> model, Tensor images, IReadOnlyList<float>? fill = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        if (IsIdentity)
            return model.call(images);
        using var scope = NewDisposeScope();
        var outputs = _views.Select(view => model.call(ApplyView(images, view, fill))).ToArray();
        return scope.MoveToOuter(PredictionAverager.Average(stack(outputs), Averaging));
    }

    private static TestTimeAugmentation Combine(bool flip, int shift)
    {
        var shifts = shift == 0
            ? new[] { (0, 0) }
            : new[] { (0, 0), (-shift, 0), (shift, 0), (0, -shift), (0, shift) };
        var flips = flip ? new[] { false, true } : new[] { false };
        return new TestTimeAugmentation(flips.SelectMany(f => shifts.Select(s => new TtaView(f, s.Item1, s.Item2))))
        {
            _name = (flip, shift) switch
            {
                (false, 0) => "none",
                (true, 0) => "flip",
                (false, _) => $"shift{shift}",
                _ => $"flip,shift{shift}",
            },
        };
    }

    private static int CheckShift(int pixels) =>
        pixels >= 1 ? pixels : throw new ArgumentOutOfRangeException(nameof(pixels), pixels, "A test-time shift must be at least 1 pixel.");
}
