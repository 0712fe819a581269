using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Tests.Training;
using FashionVision.Training;

namespace FashionVision.Tests.Models;

public class PreprocessedClassifierTests
{
    private static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>torchvision's preprocessing written out by hand: bilinear upsampling, grey → RGB, ImageNet mean/std.</summary>
    private static Tensor ByHand(Tensor pixels, int size)
    {
        var resized = nn.functional.interpolate(pixels, [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
        var rgb = resized.expand(-1, 3, -1, -1);
        return (rgb - tensor(ImageNetMean, [1, 3, 1, 1])) / tensor(ImageNetStd, [1, 3, 1, 1]);
    }

    private static ModelOptions ImageNetOptions(int size, long seed) =>
        new() { InputChannels = 1, NumClasses = 10, Seed = seed, Preprocessing = InputPreprocessing.ImageNet(size) };

    [Test]
    public void TheZooWrapsTheNetworkAndPreprocessesAsTorchvisionDoes()
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create("resnet18-imagenet", ImageNetOptions(64, seed: 3));
        var wrapper = (PreprocessedClassifier)model;
        Assert.Multiple(() =>
        {
            Assert.That(wrapper.InputChannels, Is.EqualTo(1));
            Assert.That(wrapper.Inner.InputChannels, Is.EqualTo(3));
            Assert.That(wrapper.Inner, Is.InstanceOf<ResNet>());
            Assert.That(wrapper.Classifier, Is.SameAs(wrapper.Inner.Classifier));
            Assert.That(wrapper.state_dict().Keys, Does.Contain("model.conv1.weight"));
            Assert.That(ModelZoo.GetRegistration("resnet18-imagenet").Preprocessing, Is.EqualTo(InputPreprocessing.ImageNet(224)));
        });
        model.eval();
        var pixels = rand([2, 1, 28, 28], generator: new Generator(5));
        Assert.That((wrapper.Preprocess(pixels) - ByHand(pixels, 64)).abs().max().item<float>(), Is.LessThan(1e-5f));
        using var noGrad = no_grad();
        var expected = wrapper.Inner.call(ByHand(pixels, 64));
        Assert.That((model.call(pixels) - expected).abs().max().item<float>(), Is.LessThan(1e-4f));
        Assert.That((model.ForwardHead(model.ForwardFeatures(pixels)) - expected).abs().max().item<float>(), Is.LessThan(1e-4f));

        // Resetting the head goes through to the inner network.
        model.ResetClassifier(4);
        Assert.That(model.NumClasses, Is.EqualTo(4));
        Assert.That(model.call(pixels).shape, Is.EqualTo(new long[] { 2, 4 }));
    }

    [Test]
    public void BadPreprocessingIsRejectedByName()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => ModelZoo.Create("small-cnn",
            new ModelOptions { InputChannels = 2, Preprocessing = new InputPreprocessing { Channels = 3 } }))!.ParamName, Is.EqualTo("Channels"));
        Assert.That(Assert.Throws<ArgumentException>(() => ModelZoo.Create("small-cnn",
            new ModelOptions { Preprocessing = new InputPreprocessing { Mean = [0.5f, 0.5f], Std = [0.2f, 0.2f] } }))!.ParamName, Is.EqualTo("Mean"));
        Assert.That(Assert.Throws<ArgumentException>(() => ModelZoo.Create("small-cnn",
            new ModelOptions { Preprocessing = new InputPreprocessing { Mean = [0.5f] } }))!.ParamName, Is.EqualTo("Std"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("small-cnn",
            new ModelOptions { Preprocessing = new InputPreprocessing { Size = 0 } }));
        using var model = ModelZoo.Create("small-cnn", new ModelOptions { Preprocessing = new InputPreprocessing { Size = 32 } });
        using var wrong = zeros(1, 3, 28, 28);
        Assert.That(Assert.Throws<ArgumentException>(() => model.call(wrong))!.Message, Does.Contain("N×1×H×W"));
    }

    /// <summary>
    /// The Trainer's first loss, the Evaluator, a Predictor rebuilt from the checkpoint and the hand-written preprocessing
    /// all agree: the preprocessing lives in the model and travels in its checkpoint.
    /// </summary>
    [Test]
    public void TrainerEvaluatorPredictorAndCheckpointApplyTheSamePreprocessing()
    {
        var source = new FashionMnistSource();
        if (source.Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed here (eng/setup.sh).");
        string dir = TrainingTestKit.TempDirectory();
        try
        {
            using var all = source.Load(DatasetSplit.Test);
            using var data = all.Take(16);
            const int size = 32;
            var options = ImageNetOptions(size, seed: 7);
            using var model = ModelZoo.Create("resnet18-imagenet", options);
            using var reference = (PreprocessedClassifier)ModelZoo.Create("resnet18-imagenet", options);   // the same initial weights

            var trainerOptions = new TrainerOptions { Epochs = 1, BatchSize = 8, Seed = 2, CheckpointDirectory = dir }.WithZooModel("resnet18-imagenet", options);
            double firstLoss = double.NaN;
            using (var trainer = new Trainer(model, trainerOptions))
            {
                trainer.BatchEnd += (_, e) => { if (e.Batch == 1) firstLoss = e.Loss; };
                trainer.Fit(data);
                Assert.That(trainer.Normalization, Is.Null, "the model normalises itself; the data stays in [0, 1]");
            }

            using (var scope = NewDisposeScope())
            {
                // The first training batch, as the Trainer's loader draws it, through the hand-written preprocessing.
                using var loader = new DataLoader(data, new DataLoaderOptions { BatchSize = 8, Shuffle = true, Seed = 2, DropLast = true });
                reference.train();
                foreach (var batch in loader.GetBatches(0))   // a batch lives until the enumeration moves on
                {
                    var loss = nn.functional.cross_entropy(reference.Inner.call(ByHand(batch.Images, size)), batch.Labels);
                    Assert.That(firstLoss, Is.EqualTo(loss.item<float>()).Within(1e-4));
                    break;
                }
            }

            var checkpoint = Checkpoint.Load(Path.Combine(dir, "last.ckpt"));
            Assert.That(checkpoint.ZooModelOptions().Preprocessing, Is.EqualTo(InputPreprocessing.ImageNet(size)));
            Assert.That(checkpoint.Manifest.InputShape, Is.EqualTo(new[] { 1, 28, 28 }));
            Assert.That(checkpoint.Manifest.Normalization, Is.Null);

            using var predictor = Predictor.FromCheckpoint(Path.Combine(dir, "last.ckpt"));
            var evaluation = Evaluator.Evaluate(model, data);
            using (var scope = NewDisposeScope())
            using (var noGrad = no_grad())
            {
                var pixels = data.Images.to_type(ScalarType.Float32).div(255);
                var wrapper = (PreprocessedClassifier)model;
                var expected = wrapper.Inner.call(ByHand(pixels, size)).softmax(1);
                var predicted = tensor(predictor.Predict(pixels).SelectMany(p => p.Probabilities).ToArray(), [16, 10]);
                Assert.That((predicted - expected).abs().max().item<float>(), Is.LessThan(1e-5f));
                var byHand = Evaluator.Summarize(expected, data.Labels, data.ClassNames);
                Assert.That(evaluation.Accuracy, Is.EqualTo(byHand.Accuracy));
                Assert.That(evaluation.Loss!.Value, Is.EqualTo(byHand.Loss!.Value).Within(1e-5));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
