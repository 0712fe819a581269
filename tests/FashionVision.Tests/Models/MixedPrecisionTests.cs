using FashionVision.Models;
using FashionVision.Training;
using static FashionVision.Tests.Training.TrainingTestKit;

namespace FashionVision.Tests.Models;

public class MixedPrecisionTests
{
    [Test]
    public void ABFloat16ConvolutionMatchesFloat32WithinBFloat16Rounding()
    {
        manual_seed(1);
        using var conv = nn.Conv2d(16, 8, 3, padding: 1, bias: true);
        using var x = randn(2, 16, 7, 7);
        using var reference = conv.call(x);
        using var mixed = MixedPrecision.Conv(conv, x, ComputePrecision.BFloat16);
        Assert.That(mixed.dtype, Is.EqualTo(ScalarType.BFloat16));
        using var error = (mixed.to_type(ScalarType.Float32) - reference).abs().max();
        using var scale = reference.abs().max();
        // bfloat16 keeps 8 significant bits: inputs and weights are each rounded by at most 2^-9 relative.
        Assert.That(error.item<float>(), Is.LessThan(0.02 * scale.item<float>()));
    }

    [Test]
    public void ThinInputsStayFloat32AndABFloat16InputIsCastUpForThem()
    {
        using var stem = nn.Conv2d(1, 8, 3, padding: 1);
        Assert.That(MixedPrecision.UsesBFloat16(stem, ComputePrecision.BFloat16), Is.False);
        using var x = randn(1, 1, 5, 5).to_type(ScalarType.BFloat16);
        using var y = MixedPrecision.Conv(stem, x, ComputePrecision.BFloat16);
        Assert.That(y.dtype, Is.EqualTo(ScalarType.Float32));
    }

    [Test]
    public void GradientsFlowThroughTheCastIntoTheFloat32Weights()
    {
        manual_seed(2);
        using var conv = nn.Conv2d(8, 4, 3, padding: 1, bias: false);
        using var x = randn(2, 8, 6, 6);
        MixedPrecision.Conv(conv, x, ComputePrecision.BFloat16).to_type(ScalarType.Float32).sum().backward();
        using var mixedGrad = conv.weight.grad!.clone();
        conv.zero_grad();
        conv.call(x).sum().backward();
        Assert.That(conv.weight.dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(mixedGrad.dtype, Is.EqualTo(ScalarType.Float32));
        using var error = (mixedGrad - conv.weight.grad!).abs().max();
        using var scale = conv.weight.grad!.abs().max();
        Assert.That(error.item<float>(), Is.LessThan(0.02 * scale.item<float>()));
    }

    [Test]
    public void FastCnnInBFloat16GivesFloat32LogitsCloseToFloat32Ones()
    {
        using var model = new FastCnn(1, 10, width: 8);
        model.eval();
        using var x = rand(4, 1, 28, 28);
        using var noGrad = no_grad();
        using var reference = model.forward(x);
        model.Precision = ComputePrecision.BFloat16;
        using var mixed = model.forward(x);
        Assert.That(mixed.dtype, Is.EqualTo(ScalarType.Float32));
        using var error = (mixed - reference).abs().max();
        Assert.That(error.item<float>(), Is.LessThan(0.05 * reference.abs().max().item<float>() + 1e-3));
    }

    [Test]
    public void ModelsWithoutBFloat16SupportRefuseIt()
    {
        using var model = ModelZoo.Create("lenet5");
        Assert.Throws<NotSupportedException>(() => model.Precision = ComputePrecision.BFloat16);
    }

    [Test]
    public void TheTrainerTrainsInBFloat16AndLeavesAFloat32Model()
    {
        using var train = Bars(96, seed: 1);
        using var validation = Bars(48, seed: 2);
        using var model = new FastCnn(1, 3, width: 8, dropRate: 0);
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 6,
            BatchSize = 16,
            Seed = 1,
            Optimizer = new OptimizerOptions { LearningRate = 0.01 },
            Precision = ComputePrecision.BFloat16,
        });
        var history = trainer.Fit(train, validation);

        Assert.That(history.Epochs[^1].TrainLoss, Is.LessThan(history.Epochs[0].TrainLoss));
        Assert.That(history.Epochs[^1].ValidationAccuracy, Is.GreaterThan(0.8));
        Assert.That(model.Precision, Is.EqualTo(ComputePrecision.Float32), "the model's own precision is restored");
        Assert.That(model.state_dict().Values.Where(t => t.is_floating_point()).Select(t => t.dtype), Is.All.EqualTo(ScalarType.Float32));
    }

    [Test]
    public void TheTrainerRefusesBFloat16ForAModelThatCannotDoIt()
    {
        using var train = Bars(32);
        using var model = new TinyNet();
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, Precision = ComputePrecision.BFloat16 });
        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Fit(train))!.ParamName, Is.EqualTo("Precision"));
    }

    [Test]
    public void TheFastMaxPoolGivesExactlyMaxPool2dsValuesTiesIncluded()
    {
        manual_seed(4);
        using var x = nn.functional.relu(randn(3, 5, 8, 6)).round(); // many ties
        using var reference = nn.functional.max_pool2d(x, 2);
        using var fast = MixedPrecision.MaxPool2x2(x);
        Assert.That(fast.shape, Is.EqualTo(reference.shape));
        Assert.That(fast.allclose(reference, rtol: 0, atol: 0), Is.True);
        using var odd = zeros(1, 1, 5, 4);
        Assert.Throws<ArgumentException>(() => MixedPrecision.MaxPool2x2(odd));
    }

    [Test]
    public void RunPoolsFastOnlyWhereNoGradientIsNeededAndTrainsAsBefore()
    {
        manual_seed(5);
        using var layers = nn.Sequential(nn.Conv2d(1, 4, 3, padding: 1), nn.MaxPool2d(2), nn.ReLU());
        using var x = randn(2, 1, 6, 6);
        using var reference = layers.call(x);
        using var fast = MixedPrecision.Run(layers, x, ComputePrecision.Float32);
        Assert.That(fast.allclose(reference, rtol: 0, atol: 0), Is.True);
        // With gradients the ordinary pooling runs, so the weights get the same gradient as through call().
        MixedPrecision.Run(layers, x, ComputePrecision.Float32).sum().backward();
        var conv = (TorchSharp.Modules.Conv2d)layers.children().First();
        using var viaRun = conv.weight.grad!.clone();
        layers.zero_grad();
        layers.call(x).sum().backward();
        Assert.That(viaRun.allclose(conv.weight.grad!, rtol: 0, atol: 0), Is.True);
    }
}
