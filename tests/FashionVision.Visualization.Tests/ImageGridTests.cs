using SkiaSharp;

namespace FashionVision.Visualization.Tests;

public class ImageGridTests
{
    [Test]
    public void RealFashionMnistImages_AreUpscaledNearestNeighbourIntoTheExpectedGrid()
    {
        var (images, _) = TestSupport.FashionMnistTest(10);
        using var _images = images;
        var options = new ImageGridOptions(Columns: 5, Scale: 4, Padding: 6);
        var path = Path.Combine(TestSupport.OutputFolder(), "grid.png");
        ImageGrid.SavePng(images, path, options: options);

        using var bitmap = TestSupport.DecodePngFile(path);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((5 * 112 + 6 * 6, 2 * 112 + 3 * 6)));

        var layout = GridLayout.For(10, 28, 28, null, options);
        var pixels = images.data<byte>().ToArray();
        var mismatches = 0;
        for (var i = 0; i < 10; i++)
        {
            var rect = layout.ImageRect(i);
            for (var y = 0; y < 28; y++)
            {
                for (var x = 0; x < 28; x++)
                {
                    var expected = pixels[i * 784 + y * 28 + x];
                    // Every pixel of the 4×4 block holds the source value (nearest neighbour, no smoothing).
                    foreach (var (dx, dy) in new[] { (0, 0), (3, 3), (1, 2) })
                    {
                        var actual = bitmap.GetPixel((int)rect.Left + 4 * x + dx, (int)rect.Top + 4 * y + dy);
                        if (actual.Red != expected || actual.Green != expected || actual.Blue != expected)
                            mismatches++;
                    }
                }
            }
        }
        Assert.That(mismatches, Is.Zero);
    }

    [Test]
    public void WrongPredictionCaption_IsDrawnRed_RightOneIsNot()
    {
        var images = rand(new long[] { 2, 1, 28, 28 }, generator: new Generator(1));
        var captions = new[]
        {
            ImageCaption.ForPrediction("T-shirt/top", "T-shirt/top"),
            ImageCaption.ForPrediction("Shirt", "T-shirt/top", 0.81),
        };
        Assert.That(captions.Select(c => c.IsError), Is.EqualTo(new[] { false, true }));
        var options = new ImageGridOptions(Columns: 2);
        var path = Path.Combine(TestSupport.OutputFolder(), "captions.png");
        ImageGrid.SavePng(images, path, captions, options);
        using var bitmap = TestSupport.DecodePngFile(path);

        var layout = GridLayout.For(2, 28, 28, captions, options);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((layout.Width, layout.Height)));
        Assert.That(layout.CaptionLines, Is.EqualTo(2));
        var rightCaption = layout.CaptionRect(0);
        var wrongCaption = layout.CaptionRect(1);
        Assert.Multiple(() =>
        {
            Assert.That(TestSupport.CountNear(bitmap, options.ErrorColor, wrongCaption, 60), Is.GreaterThan(30), "red text under the wrong prediction");
            Assert.That(TestSupport.CountNear(bitmap, options.ErrorColor, rightCaption, 60), Is.Zero, "no red under the right prediction");
            Assert.That(TestSupport.CountNear(bitmap, options.TextColor, rightCaption, 60), Is.GreaterThan(30), "dark text under the right prediction");
        });
    }

    [Test]
    public void FloatRgbImagesWithTitle_RenderAndClampOutOfRangeValues()
    {
        var images = zeros(3, 3, 8, 8);
        images[0, 0] = tensor(2.0f); // clamped to 1 → pure red image
        images[1, 1] = tensor(1.0f);
        images[2] = tensor(-1.0f);
        var options = new ImageGridOptions(Columns: 3, Scale: 8, Title: "RGB");
        using var bitmap = TestSupport.DecodePng(ImageGrid.RenderPng(images, options: options));
        var layout = GridLayout.For(3, 8, 8, null, options);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((layout.Width, layout.Height)));
        Assert.That(layout.TitleHeight, Is.GreaterThan(0));
        SKColor Center(int i) => bitmap.GetPixel((int)layout.ImageRect(i).MidX, (int)layout.ImageRect(i).MidY);
        Assert.Multiple(() =>
        {
            Assert.That(Center(0), Is.EqualTo(new SKColor(255, 0, 0)));
            Assert.That(Center(1), Is.EqualTo(new SKColor(0, 255, 0)));
            Assert.That(Center(2), Is.EqualTo(new SKColor(0, 0, 0)));
        });
    }

    [Test]
    public void CaptionsFromClassIndices_NameTheClasses()
    {
        var captions = ImageCaption.ForPredictions([6, 1], [0, 1], TestSupport.FashionClasses);
        Assert.Multiple(() =>
        {
            Assert.That(captions[0].Text, Is.EqualTo("true: Shirt\npred: T-shirt/top"));
            Assert.That(captions[0].IsError, Is.True);
            Assert.That(captions[1].IsError, Is.False);
            Assert.That(() => ImageCaption.ForPredictions([10], [0], TestSupport.FashionClasses), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void BadInput_IsRejectedWithTheParameterName()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => ImageGrid.RenderPng(zeros(1, 28, 28)), Throws.ArgumentException.With.Property("ParamName").EqualTo("images"));
            Assert.That(() => ImageGrid.RenderPng(zeros(2, 2, 28, 28)), Throws.ArgumentException.With.Message.Contains("channels"));
            Assert.That(() => ImageGrid.RenderPng(zeros(new long[] { 2, 1, 28, 28 }, dtype: ScalarType.Int32)), Throws.ArgumentException.With.Message.Contains("Int32"));
            Assert.That(() => ImageGrid.RenderPng(zeros(new long[] { 0, 1, 28, 28 })), Throws.ArgumentException.With.Message.Contains("empty"));
            Assert.That(() => ImageGrid.RenderPng(zeros(2, 1, 28, 28), [new ImageCaption("one")]), Throws.ArgumentException.With.Property("ParamName").EqualTo("captions"));
            Assert.That(() => ImageGrid.RenderPng(zeros(2, 1, 28, 28), options: new ImageGridOptions(Scale: 0)), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => ImageGrid.RenderPng(zeros(new long[] { 1, 1, 300, 300 }, dtype: ScalarType.Byte), options: new ImageGridOptions(Scale: 64)), Throws.ArgumentException.With.Message.Contains("at most"));
        });
    }

    [Test]
    public void TensorImages_EncodePng_GrayAndRgbRoundTrip()
    {
        var gray = randint(0, 256, new long[] { 1, 5, 7 }, dtype: ScalarType.Byte, generator: new Generator(3));
        using (var bitmap = TestSupport.DecodePng(TensorImages.EncodePng(gray)))
        {
            Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((7, 5)));
            var expected = gray.data<byte>().ToArray();
            Assert.That(Enumerable.Range(0, 35).Select(i => bitmap.GetPixel(i % 7, i / 7).Red), Is.EqualTo(expected));
        }
        var rgb = rand(new long[] { 3, 4, 4 }, generator: new Generator(4));
        using (var bitmap = TestSupport.DecodePng(TensorImages.EncodePng(rgb)))
        {
            var pixel = bitmap.GetPixel(2, 1);
            Assert.That(pixel.Green, Is.EqualTo((byte)Math.Round(rgb[1, 1, 2].item<float>() * 255)));
        }
        Assert.That(() => TensorImages.EncodePng(zeros(new long[] { 1, 1, 1, 4, 4 })), Throws.ArgumentException.With.Property("ParamName").EqualTo("image"));
    }
}
