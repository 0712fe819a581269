using FashionVision.Inference;
using FashionVision.Visualization;
using FashionVision.Visualization.Tests;
using SkiaSharp;

namespace FashionVision.Imaging.Tests;

public class ImageDecoderTests
{
    private static Tensor Pixels(float[] values, long channels, long height, long width) => tensor(values, [channels, height, width]);

    /// <summary>Bounding box (top, bottom, left, right; inclusive) of pixels above a threshold in a 1×H×W tensor.</summary>
    private static (long Top, long Bottom, long Left, long Right) Box(Tensor image, float threshold = 0.2f)
    {
        var mask = image[0] > threshold;
        var rows = mask.any(1L).nonzero();
        var cols = mask.any(0L).nonzero();
        return (rows[0, 0].item<long>(), rows[-1, 0].item<long>(), cols[0, 0].item<long>(), cols[-1, 0].item<long>());
    }

    [Test]
    public void RealFashionMnistImages_RoundTripThroughPngExactly_WithoutFitting()
    {
        var (images, _) = TestSupport.FashionMnistTest(20);
        using var _images = images;
        var folder = TestSupport.OutputFolder();
        for (var i = 0; i < 20; i++)
        {
            var path = Path.Combine(folder, $"{i}.png");
            TensorImages.SavePng(images[i], path);
            var decoded = ImageDecoder.Decode(path, ImageDecodeOptions.Raw);
            var expected = (images[i].to_type(ScalarType.Float32) / 255f).data<float>().ToArray();
            Assert.That(decoded, Is.EqualTo(expected), $"image {i}");
        }
        Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(20), "no temporary files are left behind");
    }

    [Test]
    public void DarkOnLightPhotoOfAShiftedScaledObject_IsInvertedAndRecentred()
    {
        var (images, _) = TestSupport.FashionMnistTest(3);
        using var _images = images;
        var original = images[2].to_type(ScalarType.Float32) / 255f; // 1×28×28, light on dark
        // A "photo": the item 2× larger, dark on a white page, off-centre in a 100×90 frame.
        var big = nn.functional.interpolate(original.unsqueeze(0), size: [56, 56], mode: InterpolationMode.Nearest)[0];
        var page = ones(1, 100, 90);
        page[.., 5..61, 30..86] = 1f - big;
        var path = Path.Combine(TestSupport.OutputFolder(), "photo.png");
        TensorImages.SavePng(page, path);

        using var decoded = ImageDecoder.DecodeTensor(path, ImageDecodeOptions.FashionMnist);
        Assert.That(decoded.shape, Is.EqualTo(new long[] { 1, 28, 28 }));
        var (top, bottom, left, right) = Box(decoded);
        Assert.Multiple(() =>
        {
            Assert.That(decoded[0, 0, 0].item<float>(), Is.LessThan(0.05f), "inverted: the white page became black");
            Assert.That(Math.Max(bottom - top, right - left) + 1, Is.InRange(27, 28), "the longer side fills 28 px");
            Assert.That(Math.Abs(top - (27 - bottom)), Is.LessThanOrEqualTo(1), "centred vertically");
            Assert.That(Math.Abs(left - (27 - right)), Is.LessThanOrEqualTo(1), "centred horizontally");
        });

        // The same item decoded straight from the dataset image with the same fitting looks the same.
        var direct = Path.Combine(Path.GetDirectoryName(path)!, "direct.png");
        TensorImages.SavePng(original, direct);
        using var reference = ImageDecoder.DecodeTensor(direct, ImageDecodeOptions.FashionMnist);
        var difference = (decoded - reference).abs().mean().item<float>();
        Assert.That(difference, Is.LessThan(0.06f));
    }

    [Test]
    public void MnistStyle_ScalesTheLongerSideTo20AndCentresTheMass()
    {
        // A light bar, 40 tall × 12 wide, with a heavy block at its top, in the corner of a dark 120×100 image.
        var image = zeros(1, 120, 100);
        image[.., 70..110, 75..87] = tensor(0.5f);
        image[.., 70..80, 75..87] = tensor(1.0f);
        var path = Path.Combine(TestSupport.OutputFolder(), "bar.png");
        TensorImages.SavePng(image, path);

        using var decoded = ImageDecoder.DecodeTensor(path, ImageDecodeOptions.Mnist);
        var (top, bottom, left, right) = Box(decoded, 0.05f);
        var plane = decoded[0];
        var mass = plane.sum().item<float>();
        var cy = (plane.sum(1L) * arange(28, dtype: ScalarType.Float32)).sum().item<float>() / mass;
        var cx = (plane.sum(0L) * arange(28, dtype: ScalarType.Float32)).sum().item<float>() / mass;
        Assert.Multiple(() =>
        {
            Assert.That(bottom - top + 1, Is.InRange(20, 21), "longer side 20 px");
            Assert.That(right - left + 1, Is.InRange(6, 8), "aspect ratio kept");
            Assert.That(cy, Is.EqualTo(13.5f).Within(0.6f), "centre of mass at the centre (rows)");
            Assert.That(cx, Is.EqualTo(13.5f).Within(0.6f), "centre of mass at the centre (columns)");
            Assert.That(top, Is.GreaterThan((27 - bottom) + 1), "the mass is top-heavy, so the box sits low");
        });
    }

    [Test]
    public void Inversion_AutoFollowsTheBorder_AndExplicitModesObeyed()
    {
        var light = full(new long[] { 1, 10, 10 }, 0.9f);
        light[.., 3..7, 3..7] = tensor(0.1f);
        var bytes = TensorImages.EncodePng(light);
        var raw = ImageDecodeOptions.Raw;
        var lightBorder = (float)Math.Round(0.9f * 255) / 255f; // what the PNG stores
        var darkBorder = (float)Math.Round((1 - 0.9f) * 255) / 255f;
        Assert.Multiple(() =>
        {
            Assert.That(ImageDecoder.Decode(bytes, raw with { Width = 10, Height = 10, Inversion = InversionMode.Auto })[0], Is.EqualTo(1 - lightBorder).Within(1e-6));
            Assert.That(ImageDecoder.Decode(bytes, raw with { Width = 10, Height = 10, Inversion = InversionMode.Never })[0], Is.EqualTo(lightBorder).Within(1e-6));
            Assert.That(ImageDecoder.Decode(TensorImages.EncodePng(1 - light), raw with { Width = 10, Height = 10, Inversion = InversionMode.Auto })[0], Is.EqualTo(darkBorder).Within(1e-6));
            Assert.That(ImageDecoder.Decode(TensorImages.EncodePng(1 - light), raw with { Width = 10, Height = 10, Inversion = InversionMode.Always })[0], Is.EqualTo(1 - darkBorder).Within(1e-6));
        });
    }

    [Test]
    public void ColourJpegWebpAndBmp_AreDecodedToGrayscaleAtTheRequestedSizeAndChannels()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(40, 30, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using var paint = new SKPaint { Color = new SKColor(200, 30, 30) };
            canvas.DrawRect(10, 5, 20, 10, paint); // 2:1, so it fills the width and leaves black bands above and below
        }
        using var image = SKImage.FromBitmap(bitmap);
        var jpeg = image.Encode(SKEncodedImageFormat.Jpeg, 95).ToArray();
        var webp = image.Encode(SKEncodedImageFormat.Webp, 100).ToArray();
        var bmp = Bmp24(bitmap);
        var options = new ImageDecodeOptions(Width: 32, Height: 32, Channels: 3);
        foreach (var (name, bytes) in new[] { ("jpeg", jpeg), ("webp", webp), ("bmp", bmp) })
        {
            var pixels = ImageDecoder.Decode(bytes, options, name);
            Assert.That(pixels, Has.Length.EqualTo(3 * 32 * 32), name);
            using var t = Pixels(pixels, 3, 32, 32);
            Assert.That(t[0].allclose(t[2]), Is.True, $"{name}: channels repeat the gray value");
            // The red bar (luma ≈ 0.35) becomes a light object ≈ 0.65 on black, 32 wide and 16 high.
            Assert.That(t[0, 16, 16].item<float>(), Is.EqualTo(1 - (0.299 * 200 + 0.587 * 30 + 0.114 * 30) / 255).Within(0.05), name);
            Assert.That(t[0, 0, 16].item<float>(), Is.LessThan(0.05f), $"{name}: background is black");
        }
    }

    [Test]
    public void Gif_FirstFrameIsDecoded()
    {
        // The classic 1×1 GIF89a whose one pixel is transparent: composited over white it is white.
        var gif = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");
        Assert.That(ImageDecoder.Decode(gif, ImageDecodeOptions.Raw with { Width = 1, Height = 1 }), Is.EqualTo(new[] { 1f }));
    }

    [Test]
    public void JpegExifOrientation_IsApplied()
    {
        // 20 wide × 10 high, white on the left half, black on the right; EXIF orientation 6 says "rotate 90° clockwise to view".
        using var bitmap = new SKBitmap(new SKImageInfo(20, 10, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Black);
            using var paint = new SKPaint { Color = SKColors.White };
            canvas.DrawRect(0, 0, 10, 10, paint);
        }
        using var image = SKImage.FromBitmap(bitmap);
        var jpeg = image.Encode(SKEncodedImageFormat.Jpeg, 100).ToArray();
        byte[] exif =
        [
            0xFF, 0xE1, 0x00, 0x22, (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, // TIFF header, little-endian, IFD at 8
            0x01, 0x00, // one entry
            0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, // Orientation (SHORT) = 6
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        var rotated = jpeg[..2].Concat(exif).Concat(jpeg[2..]).ToArray();

        using var upright = tensor(ImageDecoder.Decode(rotated, ImageDecodeOptions.Raw with { Width = 10, Height = 20 }), [20, 10]);
        Assert.That(upright[..8].mean().item<float>(), Is.GreaterThan(0.9f), "the white half is on top after turning clockwise");
        Assert.That(upright[12..].mean().item<float>(), Is.LessThan(0.1f));
    }

    [Test]
    public void LargeJpegPhoto_IsDecodedAtReducedSizeWithTheSameResult()
    {
        // A 2400×1800 "photo": a dark T shape on white. Decoded at 1/8 size internally; the fitted result matches a
        // reference decoded from an exactly 8× smaller PNG of the same drawing.
        byte[] Draw(int scale, SKEncodedImageFormat format)
        {
            using var bitmap = new SKBitmap(new SKImageInfo(300 * scale, 225 * scale, SKColorType.Rgba8888, SKAlphaType.Premul));
            using (var canvas = new SKCanvas(bitmap))
            {
                canvas.Clear(SKColors.White);
                using var paint = new SKPaint { Color = new SKColor(40, 40, 40) };
                canvas.DrawRect(100 * scale, 40 * scale, 100 * scale, 30 * scale, paint);
                canvas.DrawRect(135 * scale, 70 * scale, 30 * scale, 110 * scale, paint);
            }
            using var image = SKImage.FromBitmap(bitmap);
            return image.Encode(format, 95).ToArray();
        }
        var jpeg = Draw(8, SKEncodedImageFormat.Jpeg);
        using (var gray = ImageDecoder.DecodeGray(jpeg, "big.jpg", outputSize: 28))
            Assert.That(gray.shape, Is.EqualTo(new long[] { 225, 300 }), "decoded at 1/8 of 1800×2400");
        var big = ImageDecoder.Decode(jpeg, ImageDecodeOptions.FashionMnist, "big.jpg");
        var small = ImageDecoder.Decode(Draw(1, SKEncodedImageFormat.Png), ImageDecodeOptions.FashionMnist, "small.png");
        var meanDifference = big.Zip(small, (a, b) => Math.Abs(a - b)).Average();
        Assert.That(meanDifference, Is.LessThan(0.03));
    }

    [Test]
    public void TransparentPng_IsCompositedOverWhite()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(4, 4, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(new SKColor(0, 0, 0, 0));
        bitmap.SetPixel(1, 1, new SKColor(0, 0, 0, 255));
        using var image = SKImage.FromBitmap(bitmap);
        var pixels = ImageDecoder.Decode(image.Encode(SKEncodedImageFormat.Png, 100).ToArray(), ImageDecodeOptions.Raw with { Width = 4, Height = 4 });
        Assert.That(pixels[0], Is.EqualTo(1f), "transparent → white");
        Assert.That(pixels[5], Is.EqualTo(0f), "opaque black stays black");
    }

    [Test]
    public void StreamAndBytes_GiveTheSameResultAsTheFile()
    {
        var image = rand(new long[] { 1, 28, 28 }, generator: new Generator(11));
        var path = Path.Combine(TestSupport.OutputFolder(), "random.png");
        TensorImages.SavePng(image, path);
        var fromFile = ImageDecoder.Decode(path, ImageDecodeOptions.Mnist);
        using var stream = File.OpenRead(path);
        Assert.That(ImageDecoder.Decode(stream, ImageDecodeOptions.Mnist), Is.EqualTo(fromFile));
        Assert.That(ImageDecoder.Decode(File.ReadAllBytes(path), ImageDecodeOptions.Mnist), Is.EqualTo(fromFile));
        Assert.That(ImageDecoder.DecodeMany([path, path], ImageDecodeOptions.Mnist), Is.EqualTo(fromFile.Concat(fromFile)));
    }

    [Test]
    public void BadFiles_ThrowImageDecodeExceptionNamingTheFileAndTheProblem()
    {
        var folder = TestSupport.OutputFolder();
        var missing = Path.Combine(folder, "missing.png");
        var empty = Path.Combine(folder, "empty.png");
        File.WriteAllBytes(empty, []);
        var text = Path.Combine(folder, "notes.png");
        File.WriteAllText(text, "this is not an image at all, just some text in a file named .png");
        var valid = TensorImages.EncodePng(rand(new long[] { 1, 64, 64 }, generator: new Generator(12)));
        var truncated = Path.Combine(folder, "truncated.png");
        File.WriteAllBytes(truncated, valid[..(valid.Length / 2)]);
        var corrupt = Path.Combine(folder, "corrupt.png");
        var garbled = (byte[])valid.Clone();
        for (var i = 60; i < garbled.Length - 20; i++)
            garbled[i] ^= 0x5A;
        File.WriteAllBytes(corrupt, garbled);

        Assert.Multiple(() =>
        {
            Expect(missing, "does not exist");
            Expect(Path.Combine(folder, "no-such-folder", "x.png"), "does not exist");
            Expect(empty, "empty");
            Expect(text, "not a recognised image format");
            Expect(truncated, "truncated");
            Expect(corrupt, "corrupt");
            Assert.That(() => ImageDecoder.Decode(Array.Empty<byte>(), sourceName: "upload"),
                Throws.TypeOf<ImageDecodeException>().With.Property(nameof(ImageDecodeException.SourceName)).EqualTo("upload"));
            Assert.That(() => ImageDecoder.Decode(new MemoryStream([1, 2, 3])),
                Throws.TypeOf<ImageDecodeException>().With.Message.Contains("stream"));
            Assert.That(() => ImageDecoder.Decode(valid, new ImageDecodeOptions(Channels: 2)), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("options"));
            Assert.That(() => ImageDecoder.Decode(valid, new ImageDecodeOptions(ObjectSize: 40)), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });

        static void Expect(string path, string problem)
        {
            var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
            Assert.That(e!.SourceName, Is.EqualTo(path));
            Assert.That(e.Message, Does.Contain(path).And.Contain(problem));
        }
    }

    [Test]
    public void ConcurrentDecoding_GivesTheSingleThreadedResults()
    {
        var folder = TestSupport.OutputFolder();
        var paths = Enumerable.Range(0, 8).Select(i =>
        {
            var path = Path.Combine(folder, $"{i}.png");
            TensorImages.SavePng(rand(new long[] { 1, 40 + i, 30 + 2 * i }, generator: new Generator((ulong)(20 + i))), path);
            return path;
        }).ToArray();
        var expected = paths.Select(p => ImageDecoder.Decode(p, ImageDecodeOptions.Mnist)).ToArray();
        var results = new float[8][][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, thread =>
            results[thread] = Enumerable.Range(0, 10).Select(k => ImageDecoder.Decode(paths[(thread + k) % 8], ImageDecodeOptions.Mnist)).ToArray());
        for (var thread = 0; thread < 8; thread++)
            for (var k = 0; k < 10; k++)
                Assert.That(results[thread][k], Is.EqualTo(expected[(thread + k) % 8]));
    }

    [Test]
    public void PredictorExtensions_DecodeAtThePredictorsInputShape()
    {
        var image = rand(new long[] { 1, 28, 28 }, generator: new Generator(13));
        var path = Path.Combine(TestSupport.OutputFolder(), "input.png");
        TensorImages.SavePng(image, path);
        using var predictor = new RecordingPredictor((3, 32, 32));

        var prediction = predictor.PredictImage(path);
        Assert.That(prediction.ClassName, Is.EqualTo("b"));
        Assert.That(predictor.Calls.Single(), Has.Length.EqualTo(3 * 32 * 32));
        var expected = ImageDecoder.Decode(path, ImageDecodeOptions.FashionMnist with { Channels = 3, Width = 32, Height = 32 });
        Assert.That(predictor.Calls[0], Is.EqualTo(expected));

        var batch = predictor.PredictImages([path, path]);
        Assert.That(batch, Has.Count.EqualTo(2));
        Assert.That(predictor.Calls[1], Has.Length.EqualTo(2 * 3 * 32 * 32));
        Assert.That(() => predictor.PredictImage(Path.Combine(Path.GetDirectoryName(path)!, "nope.png")), Throws.TypeOf<ImageDecodeException>());
    }

    private sealed class RecordingPredictor((int, int, int) shape) : IPredictor
    {
        public List<float[]> Calls { get; } = [];

        public IReadOnlyList<string> ClassNames { get; } = ["a", "b"];

        public (int Channels, int Height, int Width) InputShape { get; } = shape;

        public IReadOnlyList<Prediction> Predict(ReadOnlySpan<float> pixels, int count, int topK = 3)
        {
            Calls.Add(pixels.ToArray());
            return Enumerable.Range(0, count)
                .Select(_ => new Prediction(1, "b", [0.25f, 0.75f], [new ClassProbability(1, "b", 0.75f), new ClassProbability(0, "a", 0.25f)]))
                .ToArray();
        }

        public void Dispose()
        {
        }
    }

    /// <summary>A 24-bit bottom-up BMP of an opaque bitmap (SkiaSharp decodes BMP but does not encode it).</summary>
    private static byte[] Bmp24(SKBitmap bitmap)
    {
        var rowSize = (bitmap.Width * 3 + 3) / 4 * 4;
        var size = 54 + rowSize * bitmap.Height;
        var bytes = new byte[size];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BitConverter.GetBytes(size).CopyTo(bytes, 2);
        BitConverter.GetBytes(54).CopyTo(bytes, 10);
        BitConverter.GetBytes(40).CopyTo(bytes, 14);
        BitConverter.GetBytes(bitmap.Width).CopyTo(bytes, 18);
        BitConverter.GetBytes(bitmap.Height).CopyTo(bytes, 22);
        BitConverter.GetBytes((short)1).CopyTo(bytes, 26);
        BitConverter.GetBytes((short)24).CopyTo(bytes, 28);
        for (var y = 0; y < bitmap.Height; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                var pixel = bitmap.GetPixel(x, bitmap.Height - 1 - y);
                var offset = 54 + y * rowSize + 3 * x;
                bytes[offset] = pixel.Blue;
                bytes[offset + 1] = pixel.Green;
                bytes[offset + 2] = pixel.Red;
            }
        }
        return bytes;
    }
}
