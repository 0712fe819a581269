using FashionVision.Transforms;
using static FashionVision.Tests.Transforms.TransformTestData;

namespace FashionVision.Tests.Transforms;

public class GeometryTests
{
    [Test]
    public void HorizontalFlipTwiceIsTheIdentityAndMirrorsColumns()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(8, 2, 5, 7);
        var once = TransformFunctional.HorizontalFlip(images);
        Assert.That(once[.., .., .., 0].IsSameAs(images[.., .., .., 6]), Is.True);
        Assert.That(TransformFunctional.HorizontalFlip(once).IsSameAs(images), Is.True);

        var flip = new RandomHorizontalFlip(p: 1);
        var (a, _) = Run(flip, images, labels);
        var (b, _) = Run(flip, a, labels);
        Assert.That(a.IsSameAs(once), Is.True);
        Assert.That(b.IsSameAs(images), Is.True);
    }

    [Test]
    public void VerticalFlipTwiceIsTheIdentityAndMirrorsRows()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(8, 1, 6, 4);
        var flip = new RandomVerticalFlip(p: 1);
        var (a, _) = Run(flip, images, labels);
        Assert.That(a[.., .., 0, ..].IsSameAs(images[.., .., 5, ..]), Is.True);
        Assert.That(Run(flip, a, labels).Images.IsSameAs(images), Is.True);
    }

    [Test]
    public void RandomFlipMirrorsExactlyTheSelectedSamples()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(64);
        var (flipped, _) = Run(new RandomHorizontalFlip(0.5), images, labels);
        var mirrored = TransformFunctional.HorizontalFlip(images);
        int flips = 0;
        for (int i = 0; i < 64; i++)
        {
            bool same = flipped[i].IsSameAs(images[i]);
            bool mirror = flipped[i].IsSameAs(mirrored[i]);
            Assert.That(same ^ mirror, Is.True, $"sample {i} is neither itself nor its mirror image");
            flips += mirror ? 1 : 0;
        }
        Assert.That(flips, Is.InRange(16, 48), "about half the samples are flipped");
    }

    [TestCase(1)]
    [TestCase(-1)]
    public void QuarterTurnMatchesRot90AwayFromTheBorders(int direction)
    {
        using var scope = NewDisposeScope();
        var images = Pattern(4, 12, 12);
        var angle = full(4, 90f * direction);
        var zero = zeros(4);
        var matrices = TransformFunctional.AffineMatrix(angle, zero, zero, ones(4), zero, zero);
        var rotated = TransformFunctional.AffineWarp(images, matrices);
        var expected = images.rot90(direction, (2, 3));
        var interior = (rotated - expected)[.., .., 1..^1, 1..^1].abs().max().item<float>();
        Assert.That(interior, Is.LessThan(1e-5f));
    }

    [Test]
    public void RandomRotationChangesEverySampleAtPOneAndKeepsValuesInRange()
    {
        using var scope = NewDisposeScope();
        var images = Pattern(6, 16, 16);
        var labels = zeros(6, ScalarType.Int64);
        var (rotated, _) = Run(new RandomRotation(degrees: 15, p: 1), images, labels);
        Assert.That(ChangedSamples(images, rotated, 1e-3), Is.All.True);
        Assert.That(rotated.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(rotated.max().item<float>(), Is.LessThanOrEqualTo(0.9f + 1e-6f));
    }

    [Test]
    public void AffineTranslationShiftsContentByWholePixels()
    {
        using var scope = NewDisposeScope();
        var images = Pattern(2, 10, 10);
        var zero = zeros(2);
        var matrices = TransformFunctional.AffineMatrix(zero, full(2, 3f), full(2, -2f), ones(2), zero, zero);
        var shifted = TransformFunctional.AffineWarp(images, matrices);
        // Content moves 3 right and 2 up: output[y, x] = input[y + 2, x - 3].
        var expected = images[.., .., 2.., ..^3];
        Assert.That(MaxAbsDifference(shifted[.., .., ..^2, 3..], expected), Is.LessThan(1e-5f));
        Assert.That(shifted[.., .., .., ..3].abs().max().item<float>(), Is.EqualTo(0f).Within(1e-6f), "zero fill enters from the left");
    }

    [Test]
    public void AffineFillIsWrittenWhereContentLeavesTheImage()
    {
        using var scope = NewDisposeScope();
        var images = Pattern(2, 10, 10);
        var zero = zeros(2);
        var matrices = TransformFunctional.AffineMatrix(zero, full(2, 4f), zero, ones(2), zero, zero);
        var shifted = TransformFunctional.AffineWarp(images, matrices, fill: 0.5);
        Assert.That(MaxAbsDifference(shifted[.., .., .., ..4], full_like(shifted[.., .., .., ..4], 0.5f)), Is.LessThan(1e-6f));
    }

    [Test]
    public void ComposedMatricesEqualSequentialApplication()
    {
        using var scope = NewDisposeScope();
        var zero = zeros(3);
        var a = TransformFunctional.AffineMatrix(tensor(new float[] { 10, 20, 30 }), full(3, 1f), zero, full(3, 1.1f), zero, zero);
        var b = TransformFunctional.AffineMatrix(tensor(new float[] { -5, 0, 45 }), zero, full(3, 2f), ones(3), full(3, 7f), zero);
        var composed = TransformFunctional.ComposeMatrices(a, b);
        var point = tensor(new float[] { 3, -2, 1 }).view(1, 3, 1).expand(3, 3, 1);
        var viaA = a.bmm(point);
        var viaBoth = b.bmm(cat(new[] { viaA, ones(3, 1, 1) }, 1));
        Assert.That(MaxAbsDifference(composed.bmm(point), viaBoth), Is.LessThan(1e-4f));
    }

    [Test]
    public void RandomAffineKeepsValuesInRangeAndChangesEverySampleAtPOne()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(32);
        var affine = new RandomAffine(degrees: 20, translate: 0.1, scale: (0.8, 1.2), shear: 10, p: 1);
        var (result, targets) = Run(affine, images, labels);
        Assert.That(result.shape, Is.EqualTo(images.shape));
        Assert.That(targets.IsSameAs(labels), Is.True);
        Assert.That(result.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(result.max().item<float>(), Is.LessThanOrEqualTo(0.9f + 1e-5f));
        Assert.That(ChangedSamples(images, result), Is.All.True);
    }

    [Test]
    public void RandomCropWithoutPaddingOrSizeChangeIsTheIdentity()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(4);
        var (result, _) = Run(new RandomCrop(padding: 0), images, labels);
        Assert.That(result.IsSameAs(images), Is.True);
    }

    [Test]
    public void RandomCropShiftsEachSampleByWholePixelsWithinThePadding()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(16, 1, 8, 8);
        var (cropped, _) = Run(new RandomCrop(padding: 2, p: 1), images, labels);
        var padded = nn.functional.pad(images, new long[] { 2, 2, 2, 2 });
        Assert.That(ChangedSamples(images, cropped).Count(c => c), Is.GreaterThanOrEqualTo(12), "the centred crop is 1 draw in 25");
        for (int i = 0; i < 16; i++)
        {
            bool found = false;
            for (int dy = 0; dy <= 4 && !found; dy++)
                for (int dx = 0; dx <= 4 && !found; dx++)
                    found = padded[i, .., dy..(dy + 8), dx..(dx + 8)].IsSameAs(cropped[i]);
            Assert.That(found, Is.True, $"sample {i} is not a crop of its padded image");
        }
    }

    [Test]
    public void RandomCropReflectPaddingAndExplicitSize()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(4, 1, 6, 6);
        var (cropped, _) = Run(new RandomCrop(padding: 1, size: (4, 5), mode: CropPadding.Reflect), images, labels);
        Assert.That(cropped.shape, Is.EqualTo(new long[] { 4, 1, 4, 5 }));
        Assert.That(cropped.min().item<float>(), Is.GreaterThanOrEqualTo(0.1f), "reflection brings no zeros in");
    }

    [Test]
    public void RandomCropKeepsTheCentreForUnselectedSamples()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(4);
        var (cropped, _) = Run(new RandomCrop(padding: 3, p: 0.0000001), images, labels);
        Assert.That(cropped.IsSameAs(images), Is.True);
    }

    [Test]
    public void RandomResizedCropResizesToTheRequestedSizeAndWholeBoxIsAResize()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(6, 1, 16, 16);
        var (crops, _) = Run(new RandomResizedCrop(12, 10), images, labels);
        Assert.That(crops.shape, Is.EqualTo(new long[] { 6, 1, 12, 10 }));
        Assert.That(crops.min().item<float>(), Is.GreaterThanOrEqualTo(0.1f - 1e-5f), "crops stay inside the image");

        // A box covering the whole image is a plain resize.
        var (whole, _) = Run(new RandomResizedCrop(16, 16, scale: (1, 1), ratio: (1, 1)), images, labels);
        Assert.That(MaxAbsDifference(whole, images), Is.LessThan(1e-5f));
    }

    [Test]
    public void BoxThetaOfAQuarterCropMatchesSlicingAtTwiceTheScale()
    {
        using var scope = NewDisposeScope();
        var images = Pattern(1, 8, 8);
        var boxes = tensor(new float[] { 2, 4, 4, 4 }).view(1, 4);
        var theta = TransformFunctional.BoxTheta(boxes, 8, 8);
        var grid = nn.functional.affine_grid(theta, new long[] { 1, 1, 4, 4 }, align_corners: false);
        var crop = TransformFunctional.Warp(images, grid);
        Assert.That(MaxAbsDifference(crop, images[.., .., 2..6, 4..8]), Is.LessThan(1e-5f));
    }

    [Test]
    public void ManagedParameterMathMatchesTheTensorKernels()
    {
        using var scope = NewDisposeScope();
        var p = rand(4, 6, generator: new Generator(12)).mul_(2).sub_(1);
        var angle = p[.., 0] * 90;
        var tx = p[.., 1] * 5;
        var ty = p[.., 2] * 5;
        var zoom = p[.., 3] * 0.3f + 1;
        var shx = p[.., 4] * 20;
        var shy = p[.., 5] * 20;
        var kernel = TransformFunctional.AffineMatrix(angle, tx, ty, zoom, shx, shy);
        var values = p.data<float>().ToArray();
        var managed = new float[24];
        for (int i = 0; i < 4; i++)
        {
            var v = values.AsSpan(i * 6, 6);
            AffineMath.Forward(managed.AsSpan(i * 6, 6), v[0] * 90, v[1] * 5, v[2] * 5, v[3] * 0.3 + 1, v[4] * 20, v[5] * 20);
        }
        Assert.That(MaxAbsDifference(tensor(managed, new long[] { 4, 2, 3 }), kernel), Is.LessThan(1e-5f));

        var composed = AffineMath.Compose(managed, managed.Reverse().ToArray());
        var composedKernel = TransformFunctional.ComposeMatrices(kernel, tensor(managed.Reverse().ToArray(), new long[] { 4, 2, 3 }));
        Assert.That(MaxAbsDifference(tensor(composed, new long[] { 4, 2, 3 }), composedKernel), Is.LessThan(1e-4f));

        var theta = AffineMath.SamplingTheta(managed, 20, 30);
        Assert.That(MaxAbsDifference(tensor(theta, new long[] { 4, 2, 3 }), TransformFunctional.SamplingTheta(kernel, 20, 30)), Is.LessThan(1e-4f));
        Assert.That(AffineMath.NonIdentity(AffineMath.Identity(3)), Is.All.False);
    }

    [Test]
    public void AffineGridMatchesTorchAffineGrid()
    {
        using var scope = NewDisposeScope();
        var theta = rand(5, 2, 3, generator: new Generator(8)).mul_(2).sub_(1);
        var ours = TransformFunctional.AffineGrid(theta, 7, 9);
        var torchs = nn.functional.affine_grid(theta, new long[] { 5, 1, 7, 9 }, align_corners: false);
        Assert.That(ours.shape, Is.EqualTo(torchs.shape));
        Assert.That(MaxAbsDifference(ours, torchs), Is.LessThan(1e-6f));
    }

    [Test]
    public void CropPerSampleGathersEachSamplesOwnWindow()
    {
        using var scope = NewDisposeScope();
        var (images, _) = Batch(3, 2, 6, 6);
        var crops = TransformFunctional.CropPerSample(images, tensor(new long[] { 0, 1, 2 }), tensor(new long[] { 2, 0, 1 }), 3, 4);
        Assert.That(crops[0].IsSameAs(images[0, .., 0..3, 2..6]), Is.True);
        Assert.That(crops[1].IsSameAs(images[1, .., 1..4, 0..4]), Is.True);
        Assert.That(crops[2].IsSameAs(images[2, .., 2..5, 1..5]), Is.True);
    }

    [Test]
    public void ResizeAndGrayscaleToRgbBuildImageNetStyleInputs()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(2);
        var chain = new Compose(new Resize(224, 224), new GrayscaleToRgb());
        var (result, _) = Run(chain, images, labels);
        Assert.That(result.shape, Is.EqualTo(new long[] { 2, 3, 224, 224 }));
        Assert.That(result[.., 0].IsSameAs(result[.., 2]), Is.True);
        Assert.That(result.mean().item<float>(), Is.EqualTo(images.mean().item<float>()).Within(0.01f));
        var (back, _) = Run(new Resize(28, 28), result, labels);
        Assert.That(back.shape, Is.EqualTo(new long[] { 2, 3, 28, 28 }));
        Assert.Throws<ArgumentException>(() => Run(new GrayscaleToRgb(), rand(1, 2, 4, 4), zeros(1, ScalarType.Int64)));
    }
}
