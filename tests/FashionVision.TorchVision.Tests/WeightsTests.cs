using FashionVision.Models;
using FashionVision.TorchVision.Weights;
using TorchSharp.PyBridge;

namespace FashionVision.TorchVision.Tests;

/// <summary>
/// PyTorch weights through <see cref="PyTorchWeights"/>: the library's own files load back in both formats, a <c>.pth</c>
/// written the PyTorch way (a zip pickle of an OrderedDict of tensors, by PyBridge's pickler, which <c>torch.load</c> reads)
/// loads into the zoo's ResNet-18 and torchvision's, and the two compute the same logits.
/// </summary>
public class WeightsTests
{
    private static Tensor Input(int batch, int channels = 3, long size = 64) =>
        rand(new long[] { batch, channels, size, size }, generator: new Generator(21));

    private static ImageClassifier Create(string name, long seed, int classes = 10, int channels = 3) =>
        ModelZoo.Create(name, ModelZoo.DefaultOptions(name) with { NumClasses = classes, InputChannels = channels, Seed = seed });

    // A model whose BatchNorm running statistics have moved off their initial values.
    private static ImageClassifier Trained(string name, long seed, int classes = 10)
    {
        var model = Create(name, seed, classes);
        using (no_grad())
            model.call(Input(4) * 3);
        model.eval();
        return model;
    }

    [TestCase("model.pth", WeightFileFormat.PyTorchPickle)]
    [TestCase("model.pt", WeightFileFormat.PyTorchPickle)]
    [TestCase("model.safetensors", WeightFileFormat.SafeTensors)]
    public void SavedStateDictLoadsBackIdentically(string file, WeightFileFormat format)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var original = Trained(TorchVisionModels.EfficientNetB0Name, seed: 1);
        var expected = original.call(Input(2));
        PyTorchWeights.Save(original, dir.File(file));
        Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName), Is.EqualTo(new[] { file }), "atomic write, no temporary left");
        Assert.That(PyTorchWeights.DetectFormat(dir.File(file)), Is.EqualTo(format));

        using var copy = Create(TorchVisionModels.EfficientNetB0Name, seed: 2);
        copy.eval();
        Assert.That(copy.call(Input(2)).Identical(expected), Is.False, "another seed, another model");
        var report = PyTorchWeights.Load(copy, dir.File(file));
        Assert.That(report.Format, Is.EqualTo(format));
        Assert.That(report.Missing, Is.Empty);
        Assert.That(report.Unexpected, Is.Empty);
        Assert.That(report.Loaded, Is.EquivalentTo(original.state_dict().Keys));
        Assert.That(copy.call(Input(2)).Identical(expected), Is.True);
    }

    [Test]
    public void PickleAndSafeTensorsReadTheSameTensorsAndPyBridgeAgrees()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = Trained(TorchVisionModels.ShuffleNetV2Name, seed: 4);
        PyTorchWeights.Save(model, dir.File("m.pth"));
        PyTorchWeights.Save(model, dir.File("m.safetensors"));
        var pickle = PyTorchWeights.Read(dir.File("m.pth"));
        var safetensors = PyTorchWeights.Read(dir.File("m.safetensors"));
        var state = model.state_dict();
        Assert.That(pickle.Keys, Is.EquivalentTo(state.Keys));
        Assert.That(safetensors.Keys, Is.EquivalentTo(state.Keys));
        foreach (var (key, value) in state)
        {
            Assert.That(pickle[key].Identical(value), Is.True, key);
            Assert.That(safetensors[key].Identical(value), Is.True, key);
        }

        // PyBridge's own module loader reads our .pth too (the file is what torch.load expects).
        using var other = Create(TorchVisionModels.ShuffleNetV2Name, seed: 5);
        other.eval();
        other.load_py(dir.File("m.pth"));
        Assert.That(other.call(Input(1)).Identical(model.call(Input(1))), Is.True);
    }

    /// <summary>
    /// The PyTorch-made fixture: a state dict with torchvision's resnet18 names (drawn from a seeded generator, with non-trivial
    /// BatchNorm statistics and a <c>module.</c> prefix as DataParallel writes it), pickled the way <c>torch.save</c> does.
    /// </summary>
    private static Dictionary<string, Tensor> TorchvisionResNet18StateDict()
    {
        using var reference = new FashionVision.TorchVision.Models.TorchVisionResNet("resnet18");
        var generator = new Generator(77);
        var state = new Dictionary<string, Tensor>();
        foreach (var (key, value) in reference.state_dict())
        {
            Tensor drawn = key.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? tensor(100L)
                : key.EndsWith("running_var", StringComparison.Ordinal) ? rand(value.shape, generator: generator) + 0.5
                : randn(value.shape, generator: generator) * 0.05;
            state["module." + key] = drawn.DetachFromDisposeScope();
        }
        return state;
    }

    [Test]
    public void APyTorchPickleLoadsIntoTheZoosResNet18AndTorchvisionsWithIdenticalLogits()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var state = TorchvisionResNet18StateDict();
        PyTorchPickler.PickleStateDict(dir.File("resnet18.pth"), state);

        using var ours = Create("resnet18-imagenet", seed: 1, classes: 1000);
        using var theirs = Create(TorchVisionModels.ResNet18Name, seed: 2, classes: 1000);
        Assert.That(ours.state_dict().Keys, Is.EquivalentTo(theirs.state_dict().Keys), "the same torchvision names");
        var ourReport = PyTorchWeights.Load(ours, dir.File("resnet18.pth"));
        var theirReport = PyTorchWeights.Load(theirs, dir.File("resnet18.pth"));
        Assert.That(ourReport.Format, Is.EqualTo(WeightFileFormat.PyTorchPickle));
        Assert.That(ourReport.Loaded, Has.Count.EqualTo(state.Count));
        Assert.That(theirReport.Loaded, Has.Count.EqualTo(state.Count));
        foreach (var (key, value) in state)
            Assert.That(ours.state_dict()[key["module.".Length..]].Identical(value), Is.True, key);

        ours.eval();
        theirs.eval();
        var input = Input(2);
        var a = ours.call(input);
        var b = theirs.call(input);
        Assert.That(a.abs().max().item<float>(), Is.GreaterThan(0.1f), "the logits are not trivially zero");
        Assert.That((a - b).abs().max().item<float>(), Is.LessThanOrEqualTo(1e-5f), "the zoo's ResNet-18 computes torchvision's");
        Assert.That(a.Identical(b), Is.True, "the same operations in the same order give the same bits");
        foreach (var tensor in state.Values)
            tensor.Dispose();
    }

    [Test]
    public void TransferKeepsAFreshHeadAndSumsTheRgbStemForGreyImages()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var state = TorchvisionResNet18StateDict();
        PyTorchPickler.PickleStateDict(dir.File("resnet18.pth"), state);

        // The CLI's shape: 1×28×28 grey Fashion-MNIST through ImageNet preprocessing into torchvision's resnet18, 10 classes.
        var options = new ModelOptions { InputChannels = 1, NumClasses = 10, Seed = 3, Preprocessing = InputPreprocessing.ImageNet(32) };
        using var model = ModelZoo.Create(TorchVisionModels.ResNet18Name, options);
        var freshHead = model.Classifier.weight!.clone();
        var report = PyTorchWeights.Load(model, dir.File("resnet18.pth"));
        Assert.That(report.KeptHead, Is.EquivalentTo(new[] { "fc.weight", "fc.bias" }));
        Assert.That(report.AdaptedInputChannels, Is.Empty, "the preprocessing makes RGB, so the stem stays RGB");
        Assert.That(model.Classifier.weight!.Identical(freshHead), Is.True);
        Assert.That(report.ToString(), Does.Contain("kept the model's own head"));

        // Without preprocessing, a one-channel model takes the RGB stem summed over its channels.
        using var grey = ModelZoo.Create(TorchVisionModels.ResNet18Name, new ModelOptions { InputChannels = 1, NumClasses = 10, Seed = 4 });
        var greyReport = PyTorchWeights.Load(grey, dir.File("resnet18.pth"));
        Assert.That(greyReport.AdaptedInputChannels, Is.EqualTo(new[] { "conv1.weight" }));
        using var rgb = ModelZoo.Create(TorchVisionModels.ResNet18Name, new ModelOptions { InputChannels = 3, NumClasses = 10, Seed = 4 });
        PyTorchWeights.Load(rgb, dir.File("resnet18.pth"));
        grey.eval();
        rgb.eval();
        var image = Input(1, channels: 1);
        Assert.That((grey.ForwardFeatures(image) - rgb.ForwardFeatures(image.expand(-1, 3, -1, -1))).abs().max().item<float>(), Is.LessThan(1e-4f),
            "a grey image through the summed stem = the same image repeated to RGB through the original");
        foreach (var tensor in state.Values)
            tensor.Dispose();
    }

    [Test]
    public void WeightsOfAnotherArchitectureAreRefusedWithTheKeysNamed()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var shuffle = Create(TorchVisionModels.ShuffleNetV2Name, seed: 1);
        PyTorchWeights.Save(shuffle, dir.File("shufflenet.pth"));
        using var model = Create(TorchVisionModels.ResNet18Name, seed: 2);
        var before = model.state_dict()["conv1.weight"].clone();
        var error = Assert.Throws<StateDictMismatchException>(() => PyTorchWeights.Load(model, dir.File("shufflenet.pth")))!;
        Assert.That(error.Missing, Does.Contain("layer1.0.conv1.weight"));
        Assert.That(error.Unexpected, Does.Contain("stage2.0.branch1.0.weight"));
        Assert.That(error.Message, Does.Contain("shufflenet.pth"));
        Assert.That(model.state_dict()["conv1.weight"].Identical(before), Is.True, "a refused load changes nothing");

        var partial = PyTorchWeights.Load(model, dir.File("shufflenet.pth"), new WeightLoadOptions { Strict = false });
        Assert.That(partial.Missing, Does.Contain("layer1.0.conv1.weight"));
        Assert.That(partial.Unexpected, Does.Contain("stage2.0.branch1.0.weight"));
    }

    [Test]
    public void UnreadableFilesGetTypedErrorsNamingTheFile()
    {
        using var dir = new TempDirectory();
        using var model = Create(TorchVisionModels.ShuffleNetV2Name, seed: 1);
        Assert.Throws<FileNotFoundException>(() => PyTorchWeights.Load(model, dir.File("absent.pth")));

        // A pre-1.6 PyTorch file is a bare pickle (protocol 2 starts 0x80 0x02), not a zip.
        File.WriteAllBytes(dir.File("legacy.pth"), [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8]);
        var legacy = Assert.Throws<WeightFileFormatException>(() => PyTorchWeights.Load(model, dir.File("legacy.pth")))!;
        Assert.That(legacy.Message, Does.Contain("legacy.pth"));

        // A zip that is not a PyTorch archive.
        using (var zip = System.IO.Compression.ZipFile.Open(dir.File("other.pth"), System.IO.Compression.ZipArchiveMode.Create))
            using (var writer = new StreamWriter(zip.CreateEntry("readme.txt").Open()))
                writer.Write("not a state dict");
        var other = Assert.Throws<WeightFileFormatException>(() => PyTorchWeights.Load(model, dir.File("other.pth")))!;
        Assert.That(other.Message, Does.Contain("other.pth"));

        Assert.Throws<ArgumentException>(() => PyTorchWeights.Save(model, dir.File("model.onnx")));
    }

    [Test]
    public void TorchSharpsOwnFormatLoadsThroughTheSameCall()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var original = Trained(TorchVisionModels.MobileNetV3SmallName, seed: 1);
        ModelWeights.Save(original, dir.File("model.bin"));
        using var copy = Create(TorchVisionModels.MobileNetV3SmallName, seed: 2);
        copy.eval();
        var report = PyTorchWeights.Load(copy, dir.File("model.bin"));
        Assert.That(report.Format, Is.EqualTo(WeightFileFormat.TorchSharp));
        Assert.That(copy.call(Input(1)).Identical(original.call(Input(1))), Is.True);
    }
}
