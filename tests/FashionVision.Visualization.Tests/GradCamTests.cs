using FashionVision.Models;
using TorchSharp.Modules;

namespace FashionVision.Visualization.Tests;

public class GradCamTests
{
    /// <summary>
    /// Feature map channel 0 = the input's left half, channel 1 = its right half (after a 1×1 conv and 2× average pooling).
    /// The head pools globally and maps channel c to class c, so class 0 depends only on the left half of the image and
    /// class 1 only on the right half: the CAM of class 0 must light up the left half and nothing else.
    /// </summary>
    private sealed class HalvesModel : ImageClassifier
    {
        private readonly Conv2d _stem;
        private readonly Linear _head;
        private readonly Tensor _masks;

        public HalvesModel() : base("halves", inputChannels: 1, numClasses: 2)
        {
            _stem = nn.Conv2d(1, 1, 1);
            _head = nn.Linear(2, 2);
            using (no_grad())
            {
                _stem.weight!.fill_(1.0);
                _stem.bias!.zero_();
                _head.weight!.copy_(tensor(new float[] { 3, 0, 0, 3 }, [2, 2]));
                _head.bias!.copy_(tensor(new float[] { 0.1f, -0.1f }));
            }
            var masks = zeros(1, 2, 28, 28);
            masks[0, 0, .., ..14] = tensor(1.0f);
            masks[0, 1, .., 14..] = tensor(1.0f);
            _masks = masks;
            RegisterComponents();
        }

        public override Tensor ForwardFeatures(Tensor input) =>
            nn.functional.avg_pool2d(_stem.forward(input) * _masks, 2);

        public override Tensor ForwardEmbedding(Tensor features) => features.mean([2, 3]);

        public override Linear Classifier => _head;

        public override void ResetClassifier(int numClasses) => throw new NotSupportedException();
    }

    /// <summary>A small random CNN for shape and range checks.</summary>
    private sealed class TinyCnn : ImageClassifier
    {
        private readonly Conv2d _conv1 = nn.Conv2d(1, 4, 3, padding: 1);
        private readonly Conv2d _conv2 = nn.Conv2d(4, 8, 3, padding: 1);
        private readonly BatchNorm2d _norm = nn.BatchNorm2d(8);
        private readonly Dropout _dropout = nn.Dropout(0.5);
        private readonly Linear _head = nn.Linear(8, 10);

        public TinyCnn() : base("tiny", 1, 10) => RegisterComponents();

        public override Tensor ForwardFeatures(Tensor input) =>
            nn.functional.relu(_norm.forward(_conv2.forward(nn.functional.max_pool2d(nn.functional.relu(_conv1.forward(input)), 2))));

        public override Tensor ForwardEmbedding(Tensor features) => _dropout.forward(features.mean([2, 3]));

        public override Linear Classifier => _head;

        public override void ResetClassifier(int numClasses) => throw new NotSupportedException();
    }

    [Test]
    public void ClassScoreThatDependsOnOneHalf_CamPeaksInThatHalfOnly()
    {
        manual_seed(0);
        using var model = new HalvesModel();
        var input = rand(new long[] { 2, 1, 28, 28 }, generator: new Generator(5)) * 0.5 + 0.25;
        var camera = new GradCam(model);

        using var left = camera.Compute(input, targetClass: 0);
        Tensor right;
        using (no_grad())
            right = camera.Compute(input, targetClass: 1); // works inside a caller's no_grad block too
        using var _right = right;

        Assert.That(left.shape, Is.EqualTo(new long[] { 2, 28, 28 }));
        // Bilinear upsampling blurs the boundary by one feature cell (2 px); judge away from it.
        var leftInLeft = left[.., .., ..12].min().item<float>();
        var leftInRight = left[.., .., 16..].max().item<float>();
        var rightInRight = right[.., .., 16..].min().item<float>();
        var rightInLeft = right[.., .., ..12].max().item<float>();
        Assert.Multiple(() =>
        {
            Assert.That(leftInLeft, Is.GreaterThan(0.2f), "class 0 lights up the left half");
            Assert.That(leftInRight, Is.EqualTo(0f), "and nothing on the right");
            Assert.That(rightInRight, Is.GreaterThan(0.2f), "class 1 lights up the right half");
            Assert.That(rightInLeft, Is.EqualTo(0f), "and nothing on the left");
            Assert.That(left.max().item<float>(), Is.EqualTo(1f).Within(1e-6));
        });
    }

    [Test]
    public void ThroughInputPreprocessing_CamIsInTheRawImagesCoordinates()
    {
        manual_seed(0);
        // 14×14 raw images, upsampled to the 28×28 the network takes: the model's own preprocessing.
        using var model = new PreprocessedClassifier(new HalvesModel(), new InputPreprocessing { Size = 28 }, inputChannels: 1);
        var input = rand(new long[] { 2, 1, 14, 14 }, generator: new Generator(5)) * 0.5 + 0.25;
        using var result = new GradCam(model).Explain(input, full(2, 0L));

        using var noGrad = no_grad();
        var resized = nn.functional.interpolate(input, [28, 28], mode: InterpolationMode.Bilinear, align_corners: false);
        Assert.That((result.Logits - model.Inner.forward(resized)).abs().max().item<float>(), Is.LessThan(1e-5f), "the logits of the preprocessed input");
        Assert.That(result.Heatmaps.shape, Is.EqualTo(new long[] { 2, 14, 14 }), "one heatmap cell per raw pixel");
        Assert.That(result.Heatmaps[.., .., ..6].min().item<float>(), Is.GreaterThan(0.2f), "class 0 lights up the left half");
        Assert.That(result.Heatmaps[.., .., 8..].max().item<float>(), Is.EqualTo(0f), "and nothing on the right");
    }

    [Test]
    public void DefaultTarget_IsThePredictedClass()
    {
        using var model = new HalvesModel();
        // Image 0 is bright on the left (predicts class 0), image 1 bright on the right (class 1).
        var input = full(new long[] { 2, 1, 28, 28 }, 0.1f);
        input[0, 0, .., ..14] = tensor(0.9f);
        input[1, 0, .., 14..] = tensor(0.9f);
        using var result = new GradCam(model).Explain(input);
        Assert.That(result.TargetClasses.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1 }));
        Assert.That(result.Heatmaps[0, .., 20..].max().item<float>(), Is.EqualTo(0f));
        Assert.That(result.Heatmaps[1, .., ..8].max().item<float>(), Is.EqualTo(0f));
        Assert.That(result.Logits.shape, Is.EqualTo(new long[] { 2, 2 }));
    }

    [Test]
    public void RandomCnn_HeatmapsHaveInputSizeAndUnitRange_AndTrainingModeIsRestored()
    {
        manual_seed(1);
        using var model = new TinyCnn();
        model.train();
        var input = rand(new long[] { 3, 1, 28, 28 }, generator: new Generator(7));
        using var heatmaps = new GradCam(model).Compute(input, tensor(new long[] { 0, 4, 9 }));
        Assert.Multiple(() =>
        {
            Assert.That(heatmaps.shape, Is.EqualTo(new long[] { 3, 28, 28 }));
            Assert.That(heatmaps.dtype, Is.EqualTo(ScalarType.Float32));
            Assert.That(heatmaps.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
            Assert.That(heatmaps.max().item<float>(), Is.LessThanOrEqualTo(1f));
            Assert.That(heatmaps.isnan().any().item<bool>(), Is.False);
            Assert.That(model.training, Is.True, "the caller's training mode comes back");
        });
        // Eval mode inside: dropout off, so two runs agree exactly.
        using var again = new GradCam(model).Compute(input, tensor(new long[] { 0, 4, 9 }));
        Assert.That(again.allclose(heatmaps, rtol: 0, atol: 0), Is.True);
    }

    [Test]
    public void ParameterGradients_AreLeftExactlyAsTheyWere()
    {
        manual_seed(2);
        using var model = new TinyCnn();
        var input = rand(new long[] { 2, 1, 28, 28 }, generator: new Generator(9));
        var camera = new GradCam(model);

        using (var heatmaps = camera.Compute(input))
        {
            Assert.That(model.parameters().All(p => p.grad is null), Is.True, "no parameter receives a gradient");
        }

        // With gradients from a training step in progress, they stay identical.
        model.forward(input).sum().backward();
        var before = model.parameters().Select(p => p.grad!.clone()).ToArray();
        using (var heatmaps = camera.Compute(input))
        {
            var after = model.parameters().Select(p => p.grad!).ToArray();
            Assert.That(before.Zip(after).All(pair => pair.First.allclose(pair.Second, rtol: 0, atol: 0)), Is.True);
        }
    }

    private static IEnumerable<string> ZooNames() => ModelZoo.Names;

    [TestCaseSource(nameof(ZooNames))]
    public void EveryZooModel_GivesInputSizedUnitRangeHeatmapsWithoutTouchingGradients(string name)
    {
        var registration = ModelZoo.GetRegistration(name);
        using var model = ModelZoo.Create(name, registration.DefaultOptions with { Seed = 3 });
        var input = rand(new long[] { 2, model.InputChannels, registration.InputHeight, registration.InputWidth }, generator: new Generator(4));
        using var heatmaps = new GradCam(model).Compute(input);
        Assert.Multiple(() =>
        {
            Assert.That(heatmaps.shape, Is.EqualTo(new long[] { 2, registration.InputHeight, registration.InputWidth }));
            Assert.That(heatmaps.isnan().any().item<bool>(), Is.False);
            Assert.That(heatmaps.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
            Assert.That(heatmaps.max().item<float>(), Is.LessThanOrEqualTo(1f));
            Assert.That(model.parameters().All(p => p.grad is null), Is.True);
        });
    }

    [Test]
    public void BadInput_IsRejected()
    {
        using var model = new HalvesModel();
        var camera = new GradCam(model);
        Assert.Multiple(() =>
        {
            Assert.That(() => camera.Compute(zeros(1, 28, 28)), Throws.ArgumentException.With.Property("ParamName").EqualTo("input"));
            Assert.That(() => camera.Compute(zeros(1, 3, 28, 28)), Throws.ArgumentException.With.Message.Contains("channel"));
            Assert.That(() => camera.Compute(zeros(new long[] { 1, 1, 28, 28 }, dtype: ScalarType.Byte)), Throws.ArgumentException);
            Assert.That(() => camera.Compute(zeros(2, 1, 28, 28), tensor(new long[] { 0 })), Throws.ArgumentException.With.Property("ParamName").EqualTo("targetClasses"));
            Assert.That(() => camera.Compute(zeros(1, 1, 28, 28), tensor(new long[] { 2 })), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => camera.Compute(zeros(1, 1, 28, 28), targetClass: -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void Overlay_BlendsHeatmapColoursOverTheImage_AndRendersAGrid()
    {
        var (images, labels) = TestSupport.FashionMnistTest(4);
        using var _images = images;
        using var model = new HalvesModel();
        var input = images.to_type(ScalarType.Float32) / 255;
        using var heatmaps = new GradCam(model).Compute(input, targetClass: 0);

        var options = new GradCamOverlayOptions(Alpha: 0.5);
        using var blended = GradCamOverlay.Blend(images, heatmaps, options);
        Assert.That(blended.shape, Is.EqualTo(new long[] { 4, 3, 28, 28 }));
        Assert.That(blended.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(blended.max().item<float>(), Is.LessThanOrEqualTo(1f));

        // Where the heatmap is 0 the pixel is half the image plus half of the colormap's coldest colour.
        var cold = options.Colormap.GetColor(0);
        var expectedRed = 0.5f * input[0, 0, 5, 25].item<float>() + 0.5f * cold.R / 255f;
        Assert.That(blended[0, 0, 5, 25].item<float>(), Is.EqualTo(expectedRed).Within(1e-5));
        using var identity = GradCamOverlay.Blend(images, heatmaps, new GradCamOverlayOptions(Alpha: 0));
        Assert.That(identity[.., 1].allclose(input[.., 0]), Is.True, "alpha 0 shows only the image");

        var captions = labels.Select(l => new ImageCaption(TestSupport.FashionClasses[(int)l])).ToArray();
        var path = Path.Combine(TestSupport.OutputFolder(), "gradcam.png");
        GradCamOverlay.SavePng(images, heatmaps, path, captions, options);
        using var bitmap = TestSupport.DecodePngFile(path);
        var layout = GridLayout.For(4, 28, 28, captions, options.Grid);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((layout.Width, layout.Height)));

        Assert.That(() => GradCamOverlay.Blend(images, heatmaps[.., ..14]), Throws.ArgumentException.With.Property("ParamName").EqualTo("heatmaps"));
        Assert.That(() => GradCamOverlay.Blend(images, heatmaps, new GradCamOverlayOptions(Alpha: 1.5)), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
