namespace FashionVision.Visualization.Tests;

public class MistakeGridTests
{
    [Test]
    public void SelectMistakes_OrdersByConfidenceAndCaps()
    {
        var truth = tensor(new long[] { 0, 1, 2, 3, 4, 5 });
        var predicted = tensor(new long[] { 0, 2, 2, 1, 4, 0 });
        var confidence = tensor(new float[] { 0.9f, 0.6f, 0.8f, 0.95f, 0.7f, 0.7f });
        Assert.Multiple(() =>
        {
            Assert.That(MistakeGrid.SelectMistakes(truth, predicted), Is.EqualTo(new long[] { 1, 3, 5 }));
            Assert.That(MistakeGrid.SelectMistakes(truth, predicted, confidence), Is.EqualTo(new long[] { 3, 5, 1 }));
            Assert.That(MistakeGrid.SelectMistakes(truth, predicted, confidence, maxImages: 2), Is.EqualTo(new long[] { 3, 5 }));
            Assert.That(MistakeGrid.SelectMistakes(truth, truth), Is.Empty);
            Assert.That(() => MistakeGrid.SelectMistakes(truth, predicted[..3]), Throws.ArgumentException);
        });
    }

    [Test]
    public void RealImagesWithSomeWrongPredictions_RenderOnlyTheMistakesInRed()
    {
        var (images, labels) = TestSupport.FashionMnistTest(30);
        using var _images = images;
        var truth = tensor(labels);
        var predicted = truth.clone();
        predicted[3] = tensor((labels[3] + 1) % 10);
        predicted[17] = tensor((labels[17] + 2) % 10);
        var options = new ImageGridOptions(Columns: 2);
        var path = Path.Combine(TestSupport.OutputFolder(), "mistakes.png");

        Assert.That(MistakeGrid.SavePng(images, truth, predicted, TestSupport.FashionClasses, path, options: options), Is.True);
        using var bitmap = TestSupport.DecodePngFile(path);
        var captions = ImageCaption.ForPredictions([labels[3], labels[17]], [(labels[3] + 1) % 10, (labels[17] + 2) % 10], TestSupport.FashionClasses);
        var layout = GridLayout.For(2, 28, 28, captions, options);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((layout.Width, layout.Height)), "two images, one row");
        Assert.That(TestSupport.CountNear(bitmap, options.ErrorColor, layout.CaptionRect(0), 60), Is.GreaterThan(30));
        Assert.That(TestSupport.CountNear(bitmap, options.ErrorColor, layout.CaptionRect(1), 60), Is.GreaterThan(30));

        var nothing = Path.Combine(Path.GetDirectoryName(path)!, "none.png");
        Assert.That(MistakeGrid.SavePng(images, truth, truth, TestSupport.FashionClasses, nothing), Is.False);
        Assert.That(File.Exists(nothing), Is.False);
    }
}
