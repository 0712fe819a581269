using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Training;
using FashionVision.TorchVision.Weights;

namespace FashionVision.TorchVision.Tests;

/// <summary>
/// The library path of <c>fashionvision train --model efficientnet-b0 --input-size N --weights x.pth</c> on real Fashion-MNIST:
/// 64 training images at 32 px (224 costs 50× more), PyTorch weights first, a few epochs, a checkpoint that rebuilds the
/// model by its zoo name.
/// </summary>
public class TrainingTests
{
    [Test]
    public void EfficientNetB0StartsFromAPthAndTrainsOnFashionMnist()
    {
        var source = new FashionMnistSource();
        if (source.Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed here (eng/setup.sh).");
        using var dir = new TempDirectory();
        using var all = source.Load(DatasetSplit.Train);
        using var data = all.Take(64);
        const string name = TorchVisionModels.EfficientNetB0Name;
        var options = ModelZoo.DefaultOptions(name) with
        {
            InputChannels = 1, NumClasses = 10, Seed = 3, Preprocessing = ModelZoo.GetRegistration(name).Preprocessing! with { Size = 32 },
        };

        // "Pretrained" weights in PyTorch's format: another 1000-class efficientnet_b0 saved as .pth.
        using (var imagenet = ModelZoo.Create(name, ModelZoo.DefaultOptions(name) with { Seed = 9 }))
            PyTorchWeights.Save(imagenet, dir.File("efficientnet_b0.pth"));
        using var model = ModelZoo.Create(name, options);
        var report = PyTorchWeights.Load(model, dir.File("efficientnet_b0.pth"));
        Assert.That(report.KeptHead, Is.EquivalentTo(new[] { "classifier.1.weight", "classifier.1.bias" }));
        var start = model.state_dict()["model.features.0.0.weight"].clone();

        var losses = new List<double>();
        var trainerOptions = new TrainerOptions { Epochs = 4, BatchSize = 16, Seed = 2, CheckpointDirectory = dir.File("run") }.WithZooModel(name, options);
        using (var trainer = new Trainer(model, trainerOptions))
        {
            trainer.BatchEnd += (_, e) => losses.Add(e.Loss);
            trainer.Fit(data);
        }
        Assert.That(losses, Has.Count.EqualTo(16));
        Assert.That(losses, Has.All.Matches<double>(double.IsFinite));
        Assert.That(losses.TakeLast(4).Average(), Is.LessThan(losses.Take(4).Average()), $"the loss falls: {string.Join(", ", losses.Select(l => l.ToString("0.00")))}");
        Assert.That(model.state_dict()["model.features.0.0.weight"].Identical(start), Is.False, "the backbone is trained too");

        using var predictor = Predictor.FromCheckpoint(Path.Combine(dir.File("run"), "last.ckpt"));
        var evaluation = Evaluator.Evaluate(model, data);
        var pixels = data.Images.to_type(ScalarType.Float32).div(255);
        var predicted = predictor.Predict(pixels).Select(p => p.Probabilities.ToList().IndexOf(p.Probabilities.Max())).ToArray();
        var labels = data.Labels.data<long>().ToArray();
        double accuracy = predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
        Assert.That(accuracy, Is.EqualTo(evaluation.Accuracy).Within(1e-9), "the checkpoint rebuilds the same efficientnet-b0 by its zoo name");
    }
}
