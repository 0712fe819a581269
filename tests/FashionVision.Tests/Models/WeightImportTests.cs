using FashionVision.Models;

namespace FashionVision.Tests.Models;

public class WeightImportTests
{
    private string _dir = "";

    [SetUp]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "fv-weights-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// torchvision's resnet18 state dict, written out from its definition (torchvision/models/resnet.py): key → shape.
    /// </summary>
    private static Dictionary<string, long[]> TorchvisionResNet18Layout()
    {
        var layout = new Dictionary<string, long[]>();
        void Bn(string prefix, long c)
        {
            layout[prefix + ".weight"] = new[] { c };
            layout[prefix + ".bias"] = new[] { c };
            layout[prefix + ".running_mean"] = new[] { c };
            layout[prefix + ".running_var"] = new[] { c };
            layout[prefix + ".num_batches_tracked"] = Array.Empty<long>();
        }
        layout["conv1.weight"] = new long[] { 64, 3, 7, 7 };
        Bn("bn1", 64);
        long inPlanes = 64;
        long[] planes = { 64, 128, 256, 512 };
        for (int stage = 0; stage < 4; stage++)
        {
            for (int block = 0; block < 2; block++)
            {
                string p = $"layer{stage + 1}.{block}";
                long input = block == 0 ? inPlanes : planes[stage];
                layout[p + ".conv1.weight"] = new[] { planes[stage], input, 3, 3 };
                Bn(p + ".bn1", planes[stage]);
                layout[p + ".conv2.weight"] = new[] { planes[stage], planes[stage], 3, 3 };
                Bn(p + ".bn2", planes[stage]);
                if (block == 0 && stage > 0)
                {
                    layout[p + ".downsample.0.weight"] = new[] { planes[stage], input, 1, 1 };
                    Bn(p + ".downsample.1", planes[stage]);
                }
            }
            inPlanes = planes[stage];
        }
        layout["fc.weight"] = new long[] { 1000, 512 };
        layout["fc.bias"] = new long[] { 1000 };
        return layout;
    }

    /// <summary>A torchvision-style file with random values (as Python would write it: `module.` prefix from DataParallel).</summary>
    private string WriteTorchvisionFile(string prefix = "", bool withNumBatchesTracked = true)
    {
        var generator = new Generator(99);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (key, shape) in TorchvisionResNet18Layout())
        {
            if (key.EndsWith("num_batches_tracked"))
            {
                if (withNumBatchesTracked)
                    tensors[prefix + key] = tensor(1234L);
            }
            else
                tensors[prefix + key] = key.EndsWith("running_var") ? rand(shape, generator: generator) + 0.5 : randn(shape, generator: generator);
        }
        string path = Path.Combine(_dir, "resnet18.safetensors");
        SafeTensors.Write(path, tensors);
        return path;
    }

    [Test]
    public void ResNet18ImageNetHasExactlyTorchvisionsNamesAndShapes()
    {
        using var model = ModelZoo.Create("resnet18-imagenet");
        var ours = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var theirs = TorchvisionResNet18Layout();
        Assert.That(ours.Keys, Is.EquivalentTo(theirs.Keys));
        Assert.That(ours.Count, Is.EqualTo(122));
        foreach (var (key, shape) in theirs)
            Assert.That(ours[key], Is.EqualTo(shape), key);
    }

    [Test]
    public void TorchvisionWeightsLoadThroughTheNameMapping()
    {
        string path = WriteTorchvisionFile(prefix: "module.");
        using var model = ModelZoo.Create("resnet18-imagenet");
        Assert.Throws<StateDictMismatchException>(() => ModelWeights.LoadSafeTensors(model, path), "the prefix needs the mapping");
        var result = ModelWeights.LoadSafeTensors(model, path, mapName: TorchvisionNames.ResNet18);
        Assert.That(result.Loaded, Has.Count.EqualTo(122));
        var file = SafeTensors.Read(path);
        var state = model.state_dict();
        foreach (var (key, value) in file)
            Assert.That(state[TorchvisionNames.ResNet18(key)].Identical(value), Is.True, key);
        Assert.That(state["layer3.0.bn1.num_batches_tracked"].item<long>(), Is.EqualTo(1234));
    }

    [Test]
    public void MissingBatchCountersAreToleratedButNothingElse()
    {
        string path = WriteTorchvisionFile(withNumBatchesTracked: false);
        using var model = ModelZoo.Create("resnet18-imagenet");
        var result = ModelWeights.LoadSafeTensors(model, path);
        Assert.That(result.Loaded, Has.Count.EqualTo(122 - 20));
        Assert.That(result.Missing, Has.Count.EqualTo(20).And.All.EndsWith("num_batches_tracked"));
    }

    [Test]
    public void MismatchesAreListedAndNothingIsLoaded()
    {
        using var model = ModelZoo.Create("lenet5");
        var source = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone() + 1);
        source.Remove("conv2.bias");
        source["extra.weight"] = zeros(3);
        source["fc3.weight"] = zeros(5, 84);
        var before = model.state_dict()["conv1.weight"].clone();

        var e = Assert.Throws<StateDictMismatchException>(() => StateDicts.Load(model, source, sourceName: "mine.safetensors"))!;
        Assert.That(e.Missing, Is.EqualTo(new[] { "conv2.bias" }));
        Assert.That(e.Unexpected, Is.EqualTo(new[] { "extra.weight" }));
        Assert.That(e.Mismatched.Select(m => m.Key), Is.EqualTo(new[] { "fc3.weight" }));
        Assert.That(e.Mismatched[0].Expected, Is.EqualTo(new long[] { 10, 84 }));
        Assert.That(e.Mismatched[0].Actual, Is.EqualTo(new long[] { 5, 84 }));
        Assert.That(e.Message, Does.Contain("mine.safetensors").And.Contain("conv2.bias").And.Contain("extra.weight").And.Contain("fc3.weight"));
        Assert.That(model.state_dict()["conv1.weight"].Identical(before), Is.True, "a failed load changes nothing");

        // Non-strict: missing and unexpected keys are reported, the rest loads; shape mismatches still fail.
        source["fc3.weight"] = zeros(10, 84);
        var result = StateDicts.Load(model, source, strict: false);
        Assert.That(result.Missing, Is.EqualTo(new[] { "conv2.bias" }));
        Assert.That(result.Unexpected, Is.EqualTo(new[] { "extra.weight" }));
        Assert.That(model.state_dict()["conv1.weight"].Identical(before + 1), Is.True);
        source["fc3.weight"] = zeros(5, 84);
        Assert.Throws<StateDictMismatchException>(() => StateDicts.Load(model, source, strict: false));
    }

    [Test]
    public void HalfPrecisionWeightsAreConvertedToTheModelsDType()
    {
        using var model = ModelZoo.Create("lenet5");
        var half = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float16));
        string path = Path.Combine(_dir, "half.safetensors");
        SafeTensors.Write(path, half);
        using var other = ModelZoo.Create("lenet5", new ModelOptions { Seed = 5 });
        ModelWeights.LoadSafeTensors(other, path);
        Assert.That(other.state_dict()["fc1.weight"].dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(other.state_dict()["fc1.weight"].Identical(half["fc1.weight"].to(ScalarType.Float32)), Is.True);
    }

    [Test]
    public void TorchvisionNamesStripWrapperPrefixes()
    {
        Assert.That(TorchvisionNames.ResNet18("layer1.0.conv1.weight"), Is.EqualTo("layer1.0.conv1.weight"));
        Assert.That(TorchvisionNames.ResNet18("module.fc.bias"), Is.EqualTo("fc.bias"));
        Assert.That(TorchvisionNames.ResNet18("_orig_mod.module.bn1.num_batches_tracked"), Is.EqualTo("bn1.num_batches_tracked"));
    }

    [Test]
    public void GrayscaleTransferSumsTheStemAndKeepsTheNewHead()
    {
        string path = WriteTorchvisionFile();
        using var model = (ResNet)ModelZoo.Create("resnet18-imagenet", new ModelOptions { InputChannels = 1, NumClasses = 10 });
        var freshHead = model.Classifier.weight.clone();
        var result = FineTuning.LoadTorchvisionResNet18(model, path);
        Assert.That(result.Loaded, Has.Count.EqualTo(120));

        var file = SafeTensors.Read(path);
        Assert.That(model.Conv1.weight.allclose(file["conv1.weight"].sum(new long[] { 1 }, keepdim: true)), Is.True);
        Assert.That(model.Classifier.weight.Identical(freshHead), Is.True);
        Assert.That(model.state_dict()["layer4.1.bn2.running_var"].Identical(file["layer4.1.bn2.running_var"]), Is.True);

        // The summed stem on a gray image equals the RGB stem on that image replicated to three channels.
        using var scope = NewDisposeScope();
        var gray = rand(new long[] { 1, 1, 32, 32 }, generator: new Generator(2));
        var rgbOut = nn.functional.conv2d(gray.expand(1, 3, 32, 32), file["conv1.weight"], strides: new long[] { 2 }, padding: new long[] { 3 });
        var grayOut = nn.functional.conv2d(gray, FineTuning.SumInputChannels(file["conv1.weight"]), strides: new long[] { 2 }, padding: new long[] { 3 });
        Assert.That(grayOut.allclose(rgbOut, 1e-4, 1e-5), Is.True);

        using var native = (ResNet)ModelZoo.Create("resnet18");
        Assert.Throws<ArgumentException>(() => FineTuning.LoadTorchvisionResNet18(native, path));
        Assert.Throws<ArgumentException>(() => FineTuning.SumInputChannels(zeros(3, 3)));
    }

    [Test]
    public void FreezingTheBackboneTrainsOnlyTheHead()
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create("small-cnn", new ModelOptions { Seed = 4 });
        FineTuning.FreezeBackbone(model);
        Assert.That(model.FeatureParameters().All(p => !p.requires_grad), Is.True);
        Assert.That(model.HeadParameters().All(p => p.requires_grad), Is.True);
        Assert.That(model.HeadParameters().Count(), Is.EqualTo(4), "fc1 and fc2, weights and biases");

        var features = model.FeatureParameters().Select(p => p.clone()).ToList();
        var head = model.Classifier.weight.clone();
        var optimizer = optim.SGD(model.parameters().Where(p => p.requires_grad), 0.1);
        var input = rand(new long[] { 4, 1, 28, 28 }, generator: new Generator(1));
        nn.functional.cross_entropy(model.call(input), tensor(new long[] { 0, 1, 2, 3 })).backward();
        optimizer.step();
        Assert.That(model.FeatureParameters().Zip(features).All(pair => pair.First.Identical(pair.Second)), Is.True);
        Assert.That(model.Classifier.weight.Identical(head), Is.False);

        FineTuning.ReplaceHead(model, 4);
        Assert.That(model.NumClasses, Is.EqualTo(4));
        FineTuning.Unfreeze(model);
        Assert.That(model.parameters().All(p => p.requires_grad), Is.True);
    }
}
