using FashionVision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Inference;

/// <summary>
/// A model with test-time augmentation built in: its forward pass runs the wrapped model on every view of the
/// <see cref="TestTimeAugmentation"/> and returns logits whose softmax is the averaged prediction. Use it where a single
/// module is wanted, e.g. to export the TTA-averaged graph to ONNX; the Evaluator and the Predictor take the policy directly.
/// </summary>
/// <remarks>The wrapped model is a registered submodule (<c>model</c>): moving, switching mode and disposing the wrapper do the same to it.</remarks>
public sealed class TtaClassifier : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> model;
    private readonly float[]? _fill;

    /// <summary>Wraps <paramref name="model"/> in <paramref name="policy"/>.</summary>
    /// <param name="model">The classifier (disposed with the wrapper).</param>
    /// <param name="policy">The views and how they are averaged.</param>
    /// <param name="inputNormalization">
    /// The normalisation already applied to the inputs (null: raw [0, 1] pixels), so that the pixels a shift brings in are
    /// black in the model's units (<see cref="TestTimeAugmentation.BlackLevel"/>).
    /// </param>
    public TtaClassifier(nn.Module<Tensor, Tensor> model, TestTimeAugmentation policy, ChannelStatistics? inputNormalization = null)
        : base(nameof(TtaClassifier))
    {
        this.model = model ?? throw new ArgumentNullException(nameof(model));
        Policy = policy ?? throw new ArgumentNullException(nameof(policy));
        _fill = TestTimeAugmentation.BlackLevel(inputNormalization);
        RegisterComponents();
    }

    /// <summary>The wrapped classifier.</summary>
    public nn.Module<Tensor, Tensor> Model => model;

    /// <summary>The views and how they are averaged.</summary>
    public TestTimeAugmentation Policy { get; }

    /// <summary>The per-channel value of the pixels a shift brings in (a black pixel in model-input units), or null for 0.</summary>
    public IReadOnlyList<float>? Fill => _fill;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Policy.Forward(model, input, _fill);
}
