using FashionVision.Transforms;
using static FashionVision.Tests.Transforms.TransformTestData;

namespace FashionVision.Tests.Transforms;

public class ErasingTests
{
    [TestCase(0.02, 0.33, 0.3, 3.3)]
    [TestCase(0.1, 0.2, 0.5, 2.0)]
    [TestCase(0.3, 0.3, 1.0, 1.0)]
    public void ErasedRectanglesStayWithinTheRequestedAreaAndAspectBounds(double sMin, double sMax, double rMin, double rMax)
    {
        using var scope = NewDisposeScope();
        const int size = 64;
        var (images, labels) = Batch(48, 1, size, size);
        var erasing = new RandomErasing(p: 1, scale: (sMin, sMax), ratio: (rMin, rMax), value: 0);
        var (result, _) = Run(erasing, images, labels);
        var erased = result.eq(0).squeeze(1); // images lie in [0.1, 0.9], so zeros are erased pixels
        for (int i = 0; i < 48; i++)
        {
            var rows = erased[i].any(1).nonzero().view(-1);
            var cols = erased[i].any(0).nonzero().view(-1);
            Assert.That(rows.numel(), Is.GreaterThan(0), $"sample {i} was not erased");
            long h = rows.max().item<long>() - rows.min().item<long>() + 1;
            long w = cols.max().item<long>() - cols.min().item<long>() + 1;
            Assert.That(erased[i].sum().item<long>(), Is.EqualTo(h * w), $"sample {i}: the erased area is a filled rectangle");
            // Sides are rounded to whole pixels: allow half a pixel on each side.
            double area = size * size;
            Assert.That((h - 0.5) * (w - 0.5), Is.LessThanOrEqualTo(sMax * area + 1e-9), $"sample {i}: area too large");
            Assert.That((h + 0.5) * (w + 0.5), Is.GreaterThanOrEqualTo(sMin * area - 1e-9), $"sample {i}: area too small");
            Assert.That((h - 0.5) / (w + 0.5), Is.LessThanOrEqualTo(rMax), $"sample {i}: too tall");
            Assert.That((h + 0.5) / (w - 0.5), Is.GreaterThanOrEqualTo(rMin), $"sample {i}: too wide");
        }
    }

    [Test]
    public void SampledBoxesFitAndCoverTheWholeRangeOfPositions()
    {
        using var scope = NewDisposeScope();
        var (boxes, found) = TransformFunctional.SampleBoxes(2000, 20, 30, (0.02, 0.2), (0.5, 2), new Generator(3));
        Assert.That(found.all().item<bool>(), Is.True);
        var bottom = boxes[.., 0] + boxes[.., 2];
        var right = boxes[.., 1] + boxes[.., 3];
        Assert.That(bottom.max().item<float>(), Is.EqualTo(20f), "boxes reach the bottom edge");
        Assert.That(right.max().item<float>(), Is.EqualTo(30f), "boxes reach the right edge");
        Assert.That(boxes[.., 0].min().item<float>(), Is.EqualTo(0f));
        Assert.That(boxes[.., 1].min().item<float>(), Is.EqualTo(0f));
    }

    [Test]
    public void BoxesThatCannotFitLeaveTheSampleUnchanged()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(8, 1, 10, 10);
        // A 1:10 aspect ratio at 60% of the area cannot fit in a 10×10 image.
        var (result, _) = Run(new RandomErasing(p: 1, scale: (0.6, 0.6), ratio: (10, 10)), images, labels);
        Assert.That(result.IsSameAs(images), Is.True);
    }

    [Test]
    public void RandomFillStaysInItsRangeAndConstantFillIsExact()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(16, 1, 28, 28);
        var (noisy, _) = Run(new RandomErasing(p: 1, random: true, randomMin: 0.95, randomMax: 1.0), images, labels);
        var erased = noisy.ge(0.95);
        Assert.That(erased.flatten(1).any(1).all().item<bool>(), Is.True, "every sample has an erased patch");
        Assert.That(noisy.max().item<float>(), Is.LessThan(1f));

        var (constant, _) = Run(new RandomErasing(p: 1, value: 0.5), images, labels);
        var changed = constant.ne(images);
        Assert.That(constant.masked_select(changed).eq(0.5f).all().item<bool>(), Is.True);
    }

    [Test]
    public void IndicatorMasksEqualBoxMasks()
    {
        using var scope = NewDisposeScope();
        var (boxes, _) = TransformFunctional.SampleBoxes(32, 12, 20, (0.05, 0.5), (0.3, 3), new Generator(6));
        var indicators = tensor(TransformFunctional.BoxIndicators(boxes.data<float>().ToArray(), 12, 20), new long[] { 32, 32 });
        var applied = arange(32).remainder(3).ne(0);
        var fromIndicators = TransformFunctional.MaskFromIndicators(indicators, applied, 12, 20);
        var expected = TransformFunctional.BoxMask(boxes, 12, 20).logical_and(applied.view(-1, 1, 1, 1));
        Assert.That(fromIndicators.IsSameAs(expected), Is.True);
    }

    [Test]
    public void CutMixBoxesCoverOneMinusLambdaWhenInside()
    {
        using var scope = NewDisposeScope();
        var lambda = tensor(new float[] { 0.75f, 0.5f, 1f, 0f });
        var centre = full(4, 0.5f);
        var boxes = TransformFunctional.CutMixBoxes(lambda, centre, centre, 16, 16);
        var area = (boxes[.., 2] * boxes[.., 3]).data<float>().ToArray();
        Assert.That(area, Is.EqualTo(new float[] { 64, 121, 0, 256 }), "sides floor(16·√(1−λ)): 8, 11, 0, 16");
    }

    [Test]
    public void BoxMaskMatchesTheBoxes()
    {
        using var scope = NewDisposeScope();
        var boxes = tensor(new float[] { 1, 2, 3, 4, 0, 0, 0, 0 }).view(2, 4);
        var mask = TransformFunctional.BoxMask(boxes, 6, 8);
        Assert.That(mask.shape, Is.EqualTo(new long[] { 2, 1, 6, 8 }));
        Assert.That(mask[0].sum().item<long>(), Is.EqualTo(12));
        Assert.That(mask[0, 0, 1..4, 2..6].all().item<bool>(), Is.True);
        Assert.That(mask[1].any().item<bool>(), Is.False, "an empty box masks nothing");
    }
}
