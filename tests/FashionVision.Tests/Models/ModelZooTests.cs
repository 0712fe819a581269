using FashionVision.Models;

namespace FashionVision.Tests.Models;

/// <summary>The registry itself: names, lookup errors, options, seeds, registering user models.</summary>
public class ModelZooTests
{
    private static readonly string[] BuiltIn =
    {
        "lenet5", "small-cnn", "vgg-cnn", "resnet18", "resnet18-imagenet", "se-resnet18", "cbam-resnet18", "wrn-16-4", "wrn-28-10", "fast-cnn", "mobilenet", "fast-resnet",
        "densenet-bc-100", "small-vit",
    };

    [Test]
    public void NamesStartWithTheBuiltInModelsInOrder()
    {
        Assert.That(ModelZoo.Names.Take(BuiltIn.Length), Is.EqualTo(BuiltIn));
    }

    /// <summary>
    /// A source is a paper with its table or figure, a public benchmark table, or the command that measured the figure here;
    /// "as quoted somewhere" is none of these.
    /// </summary>
    [TestCaseSource(nameof(BuiltIn))]
    public void EveryReferenceResultNamesARemeasurableSource(string name)
    {
        string reference = ModelZoo.GetRegistration(name).ReferenceAccuracy;
        Assert.That(reference, Does.Match(@"\d+(\.\d+)?%"), "a figure");
        var sources = System.Text.RegularExpressions.Regex.Matches(reference,
            @"Table \d+|Fig\. \d+|table '[^']+'|table of [a-z /]+|README, Benchmark table|torchvision model documentation|measured here \d{4}-\d{2}-\d{2}: (dotnet run|fashionvision) [^;)]+|docs/recipes\.md, ""[^""]+""");
        Assert.That(sources, Is.Not.Empty, $"{name}: '{reference}' names no paper table, benchmark table or command");
        foreach (string claim in TopLevelParts(reference).Where(part => part.Contains('%')))
            Assert.That(claim, Does.Match(@"\(.+\)$"), $"{name}: every figure carries its source in parentheses");
    }

    // Splits "a (x; y); b (z)" at the semicolons outside parentheses: "a (x; y)", "b (z)".
    private static IEnumerable<string> TopLevelParts(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            depth += text[i] == '(' ? 1 : text[i] == ')' ? -1 : 0;
            if (text[i] == ';' && depth == 0)
            {
                yield return text[start..i].Trim();
                start = i + 1;
            }
        }
        yield return text[start..].Trim();
    }

    [Test]
    public void UnknownNameThrowsArgumentExceptionListingTheValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create("resnet-19"))!;
        Assert.That(e.ParamName, Is.EqualTo("name"));
        Assert.That(e.Message, Does.Contain("resnet-19"));
        foreach (var name in BuiltIn)
            Assert.That(e.Message, Does.Contain(name));
        Assert.Throws<ArgumentException>(() => ModelZoo.Describe("nope"));
    }

    [Test]
    public void LookupIgnoresCaseAndSurroundingSpace()
    {
        using var model = ModelZoo.Create(" LeNet5 ");
        Assert.That(model, Is.InstanceOf<LeNet5>());
        Assert.That(ModelZoo.Contains("SMALL-CNN"), Is.True);
        Assert.That(ModelZoo.Contains("small_cnn"), Is.False);
    }

    [Test]
    public void OptionsReachTheModel()
    {
        using var model = ModelZoo.Create("small-cnn", new ModelOptions { InputChannels = 3, NumClasses = 7, Width = 0.5, Attention = AttentionKind.SqueezeExcitation });
        Assert.That(model.InputChannels, Is.EqualTo(3));
        Assert.That(model.NumClasses, Is.EqualTo(7));
        Assert.That(((SmallCnn)model).FeatureChannels, Is.EqualTo(32));
        Assert.That(model.modules().OfType<SqueezeExcitation>().Count(), Is.EqualTo(2));
        using var output = model.call(zeros(2, 3, 28, 28));
        Assert.That(output.shape, Is.EqualTo(new long[] { 2, 7 }));
    }

    [Test]
    public void ResNet18ImageNetDefaultsToRgbAndAThousandClasses()
    {
        Assert.That(ModelZoo.DefaultOptions("resnet18-imagenet"), Is.EqualTo(new ModelOptions { InputChannels = 3, NumClasses = 1000 }));
        Assert.That(ModelZoo.DefaultOptions("resnet18"), Is.EqualTo(new ModelOptions()));
    }

    [Test]
    public void AttentionVariantsUseTheirAttentionEverywhere()
    {
        using var se = ModelZoo.Create("se-resnet18");
        using var cbam = ModelZoo.Create("cbam-resnet18");
        Assert.That(se.modules().OfType<BasicBlock>().Select(b => b.Attention), Is.All.InstanceOf<SqueezeExcitation>());
        Assert.That(cbam.modules().OfType<BasicBlock>().Select(b => b.Attention), Is.All.InstanceOf<Cbam>());
        Assert.That(se.modules().OfType<BasicBlock>().Count(), Is.EqualTo(8));
    }

    [Test]
    public void OptionsAModelCannotHonourAreRejected()
    {
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("lenet5", new ModelOptions { Width = 2 }));
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("lenet5", new ModelOptions { Attention = AttentionKind.Cbam }));
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("se-resnet18", new ModelOptions { Attention = AttentionKind.Cbam }));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("resnet18", new ModelOptions { NumClasses = 0 }))!;
        Assert.That(e.Message, Does.Contain("NumClasses"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("small-cnn", new ModelOptions { DropRate = 1.0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("mobilenet", new ModelOptions { Width = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("small-cnn", new ModelOptions { InputChannels = -1 }));
    }

    [Test]
    public void BatchNormMomentumAndEpsilonReachEveryBatchNormLayer()
    {
        foreach (var name in new[] { "small-cnn", "fast-cnn", "densenet-bc-100", "mobilenet" })
        {
            using var model = ModelZoo.Create(name, new ModelOptions { Width = 0.25, BatchNormMomentum = 0.01, BatchNormEpsilon = 1e-3 });
            var norms = model.modules().OfType<TorchSharp.Modules.BatchNorm>().ToList();
            Assert.That(norms, Is.Not.Empty, name);
            Assert.That(norms.Select(n => n.momentum), Is.All.EqualTo(0.01), name);
            Assert.That(norms.Select(n => n.eps), Is.All.EqualTo(1e-3), name);
        }
        using var defaults = ModelZoo.Create("small-cnn", new ModelOptions { Width = 0.25 });
        Assert.That(defaults.modules().OfType<TorchSharp.Modules.BatchNorm>().Select(n => (n.momentum, n.eps)), Is.All.EqualTo(((double?)0.1, 1e-5)));

        // ε is part of the inference function: the same weights give other outputs.
        using var a = ModelZoo.Create("small-cnn", new ModelOptions { Width = 0.25, Seed = 4 });
        using var b = ModelZoo.Create("small-cnn", new ModelOptions { Width = 0.25, Seed = 4, BatchNormEpsilon = 0.5 });
        a.eval();
        b.eval();
        using var input = rand(2, 1, 28, 28, generator: new Generator(1));
        Assert.That(a.call(input).allclose(b.call(input), 1e-4, 1e-4), Is.False);

        // A model without BatchNorm rejects the options it cannot honour; bad values are rejected by name.
        Assert.That(Assert.Throws<ArgumentException>(() => ModelZoo.Create("small-vit", new ModelOptions { BatchNormMomentum = 0.01 }))!.Message,
            Does.Contain("no BatchNorm"));
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("lenet5", new ModelOptions { BatchNormEpsilon = 1e-3 }));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("small-cnn", new ModelOptions { BatchNormMomentum = 1.5 }))!.Message,
            Does.Contain("BatchNormMomentum"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("small-cnn", new ModelOptions { BatchNormEpsilon = 0 }));
    }

    [Test]
    public void CosineHeadGivesScaledCosinesOfTheClassifierWeights()
    {
        using var model = ModelZoo.Create("small-cnn", new ModelOptions { Width = 0.25, Seed = 3, Head = HeadKind.Cosine, CosineScale = 8 });
        Assert.That(model.Head, Is.EqualTo(HeadKind.Cosine));
        Assert.That(model.CosineScale, Is.EqualTo(8));
        model.eval();
        using var scope = NewDisposeScope();
        var input = rand(4, 1, 28, 28, generator: new Generator(2));
        var (logits, embedding) = model.ForwardWithEmbedding(input);
        // By hand: s · (e·w)/(‖e‖‖w‖) for every sample and class.
        var w = model.Classifier.weight!;
        var expected = embedding.matmul(w.t()) / embedding.square().sum(1, true).sqrt().mul(w.square().sum(1, true).sqrt().t()) * 8;
        Assert.That(logits.allclose(expected, 1e-5, 1e-5), Is.True);
        Assert.That(logits.abs().max().item<float>(), Is.LessThanOrEqualTo(8.0001f));
        Assert.That(model.call(input).allclose(logits), Is.True, "forward = the cosine head over the embedding");

        // The same weights as a linear head give W·e + b; switching back and forth keeps the weights.
        model.UseHead(HeadKind.Linear);
        Assert.That(model.call(input).allclose(model.Classifier.call(embedding), 1e-5, 1e-5), Is.True);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.UseHead(HeadKind.Cosine, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("small-cnn", new ModelOptions { Head = HeadKind.Cosine, CosineScale = double.NaN }));
    }

    [Test]
    public void ModelOptionsFromJsonReadsTheLibrarysAndTheClisSpelling()
    {
        var options = new ModelOptions { InputChannels = 3, Width = 0.5, Attention = AttentionKind.SqueezeExcitation, Head = HeadKind.Cosine, CosineScale = 12, BatchNormEpsilon = 1e-3 };
        // The library's checkpoints (TrainerOptions.WithZooModel): property and enum names as declared.
        string library = System.Text.Json.JsonSerializer.Serialize(options, new System.Text.Json.JsonSerializerOptions
        {
            Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        });
        Assert.That(ModelOptions.FromJson(library), Is.EqualTo(options));
        // The CLI's run folders: camel case, kebab-case enum values (before this reader, the library silently read defaults).
        const string cli = """{"inputChannels":3,"numClasses":10,"width":0.5,"attention":"squeeze-excitation","head":"cosine","cosineScale":12,"batchNormEpsilon":0.001}""";
        Assert.That(ModelOptions.FromJson(cli), Is.EqualTo(options));
        Assert.That(ModelOptions.FromJson("{}"), Is.EqualTo(new ModelOptions()));
        Assert.Throws<System.Text.Json.JsonException>(() => ModelOptions.FromJson("""{"head":"quadratic"}"""));
    }

    [Test]
    public void ForwardWithEmbeddingReturnsTheClassifiersInput()
    {
        foreach (var name in new[] { "lenet5", "fast-cnn", "small-vit", "densenet-bc-100" })
        {
            using var scope = NewDisposeScope();
            using var model = ModelZoo.Create(name, new ModelOptions { Width = name == "lenet5" ? null : 0.25, Seed = 1 });
            model.eval();
            var input = rand(3, 1, 28, 28, generator: new Generator(5));
            var (logits, embedding) = model.ForwardWithEmbedding(input);
            Assert.That(embedding.shape, Is.EqualTo(new[] { 3, model.Classifier.in_features }), name);
            Assert.That(logits.allclose(model.Classifier.call(embedding), 1e-5, 1e-6), Is.True, name);
            Assert.That(logits.allclose(model.call(input), 1e-5, 1e-6), Is.True, name);
        }
    }

    [Test]
    public void SameSeedGivesSameWeightsAndDifferentSeedsDiffer()
    {
        using var a = ModelZoo.Create("small-cnn", new ModelOptions { Seed = 7 });
        using var b = ModelZoo.Create("small-cnn", new ModelOptions { Seed = 7 });
        using var c = ModelZoo.Create("small-cnn", new ModelOptions { Seed = 8 });
        var pa = a.parameters().ToList();
        var pb = b.parameters().ToList();
        var pc = c.parameters().ToList();
        Assert.That(Enumerable.Range(0, pa.Count).All(i => pa[i].Identical(pb[i])), Is.True);
        Assert.That(pa[0].Identical(pc[0]), Is.False);
    }

    [Test]
    public void DescribeAllListsEveryModelInOrder()
    {
        var table = ModelZoo.DescribeAll();
        Assert.That(table.Select(i => i.Name), Is.EqualTo(ModelZoo.Names.Take(table.Count)));
        Assert.That(table.Single(i => i.Name == "resnet18-imagenet").ParameterCount, Is.EqualTo(11_689_512));
        Assert.That(table.Single(i => i.Name == "mobilenet").FlopsPerImage, Is.LessThan(table.Single(i => i.Name == "resnet18").FlopsPerImage / 10));
    }

    [Test]
    public void DescribeHasNoSideEffectOnTheGlobalGenerator()
    {
        manual_seed(3);
        using var expected = rand(4);
        manual_seed(3);
        ModelZoo.Describe("lenet5", new ModelOptions { NumClasses = 3 });
        using var actual = rand(4);
        Assert.That(actual.Identical(expected), Is.True);
    }

    [Test]
    public void UsersRegisterTheirOwnModels()
    {
        string name = "user-net-" + Guid.NewGuid().ToString("N")[..8];
        ModelZoo.Register(name, o => new LeNet5(o.InputChannels, o.NumClasses), "LeNet-5 under another name", "n/a",
            new ModelOptions { NumClasses = 4 });
        Assert.That(ModelZoo.Names, Does.Contain(name));
        using var model = ModelZoo.Create(name);
        Assert.That(model.NumClasses, Is.EqualTo(4));
        var info = ModelZoo.Describe(name);
        Assert.That(info.ParameterCount, Is.EqualTo(61_706 - 6 * 84 - 6));
        Assert.That(info.Summary, Is.EqualTo("LeNet-5 under another name"));

        Assert.Throws<ArgumentException>(() => ModelZoo.Register(name, o => new LeNet5(), "again"));
        Assert.Throws<ArgumentException>(() => ModelZoo.Register("Bad_Name", o => new LeNet5(), "bad"));
        Assert.Throws<ArgumentException>(() => ModelZoo.Register("bad--name", o => new LeNet5(), "bad"));
        string liar = "liar-" + Guid.NewGuid().ToString("N")[..8];
        ModelZoo.Register(liar, o => new LeNet5(1, 10), "ignores its options");
        Assert.Throws<InvalidOperationException>(() => ModelZoo.Create(liar, new ModelOptions { NumClasses = 5 }));
    }
}
