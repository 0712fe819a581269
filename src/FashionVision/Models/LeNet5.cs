using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// LeNet-5 (LeCun et al. 1998) in its common modern form, adapted to 28×28 inputs: full C3 connections, ReLU, max-pooling
/// and a linear output layer instead of the original partial connections, tanh, trainable sub-sampling and RBF outputs.
/// </summary>
/// <remarks>
/// Structure (28×28 input; the 2-pixel padding of Conv1 reproduces the paper's 32×32 geometry):
/// <code>
/// Conv1 → Relu → Pool1     Conv2d(C, 6, 5, padding 2), ReLU, MaxPool2d(2)     6×14×14
/// Conv2 → Relu → Pool2     Conv2d(6, 16, 5), ReLU, MaxPool2d(2)              16×5×5 (the feature map)
/// head: flatten → Fc1 → Relu → Fc2 → Relu → Dropout → Fc3     Linear(400, 120), Linear(120, 84), Linear(84, classes)
/// </code>
/// With one input channel and 10 classes it has 61,706 parameters, the count usually quoted for this variant.
/// </remarks>
public sealed class LeNet5 : ImageClassifier
{
    private readonly Conv2d conv1;
    private readonly ReLU relu;
    private readonly MaxPool2d pool1;
    private readonly Conv2d conv2;
    private readonly MaxPool2d pool2;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Dropout dropout;
    private Linear fc3;

    /// <summary>Creates the network.</summary>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="dropRate">Dropout before the output layer.</param>
    public LeNet5(int inputChannels = 1, int numClasses = 10, double dropRate = 0.0) : base(nameof(LeNet5), inputChannels, numClasses)
    {
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        conv1 = nn.Conv2d(inputChannels, 6, 5, padding: 2);
        relu = nn.ReLU();
        pool1 = nn.MaxPool2d(2);
        conv2 = nn.Conv2d(6, 16, 5);
        pool2 = nn.MaxPool2d(2);
        fc1 = nn.Linear(16 * 5 * 5, 120);
        fc2 = nn.Linear(120, 84);
        dropout = nn.Dropout(dropRate);
        fc3 = nn.Linear(84, numClasses);
        RegisterComponents();
    }

    /// <summary>First convolution, C → 6, 5×5.</summary>
    public Conv2d Conv1 => conv1;

    /// <summary>The ReLU used after every layer but the last.</summary>
    public ReLU Relu => relu;

    /// <summary>First 2×2 max-pool.</summary>
    public MaxPool2d Pool1 => pool1;

    /// <summary>Second convolution, 6 → 16, 5×5.</summary>
    public Conv2d Conv2 => conv2;

    /// <summary>Second 2×2 max-pool.</summary>
    public MaxPool2d Pool2 => pool2;

    /// <summary>First fully connected layer of the head, 400 → 120.</summary>
    public Linear Fc1 => fc1;

    /// <summary>Second fully connected layer of the head, 120 → 84.</summary>
    public Linear Fc2 => fc2;

    /// <summary>Dropout before the output layer.</summary>
    public Dropout Dropout => dropout;

    /// <inheritdoc />
    public override Linear Classifier => fc3;

    /// <inheritdoc />
    public override IEnumerable<Parameter> HeadParameters() => fc1.parameters().Concat(fc2.parameters()).Concat(fc3.parameters());

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = pool1.call(relu.call(conv1.call(input)));
        return scope.MoveToOuter(pool2.call(relu.call(conv2.call(x))));
    }

    /// <inheritdoc />
    public override Tensor ForwardEmbedding(Tensor features)
    {
        using var scope = NewDisposeScope();
        var x = relu.call(fc1.call(features.flatten(1)));
        x = relu.call(fc2.call(x));
        return scope.MoveToOuter(dropout.call(x));
    }

    /// <inheritdoc />
    public override void ResetClassifier(int numClasses)
    {
        ValidateNumClasses(numClasses);
        fc3 = Initialization.LinearLike(fc3, numClasses);
        ReplaceSubmodule(nameof(fc3), fc3);
        NumClasses = numClasses;
    }
}
