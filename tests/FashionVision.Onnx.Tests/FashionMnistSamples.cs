using System.IO.Compression;

namespace FashionVision.Onnx.Tests;

/// <summary>Real Fashion-MNIST images for the tests, read straight from the Debian package's gzip IDX files.</summary>
internal static class FashionMnistSamples
{
    public const string Folder = "/usr/share/datasets/fashion-mnist";
    public const float Mean = 0.2860f;
    public const float Std = 0.3530f;

    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private static readonly Lazy<(byte[] Images, byte[] Labels)> Test = new(() => Load("t10k"));
    private static readonly Lazy<(byte[] Images, byte[] Labels)> Train = new(() => Load("train"));

    /// <summary>The first <paramref name="count"/> test images as N×1×28×28 floats in [0, 1], and their labels.</summary>
    public static (Tensor Images, Tensor Labels) TestSet(int count) => Slice(Test.Value, count);

    /// <summary>The first <paramref name="count"/> training images as N×1×28×28 floats in [0, 1], and their labels.</summary>
    public static (Tensor Images, Tensor Labels) TrainSet(int count) => Slice(Train.Value, count);

    /// <summary>Normalizes [0, 1] pixels with the dataset's mean and standard deviation.</summary>
    public static Tensor Normalize(Tensor pixels) => (pixels - Mean) / Std;

    public static bool Available => File.Exists(Path.Combine(Folder, "t10k-images-idx3-ubyte.gz"));

    private static (Tensor, Tensor) Slice((byte[] Images, byte[] Labels) data, int count)
    {
        count = Math.Min(count, data.Labels.Length);
        var images = tensor(data.Images.AsSpan(0, count * 784).ToArray(), [count, 1, 28, 28]).to(float32).div_(255f);
        var labels = tensor(data.Labels.AsSpan(0, count).ToArray().Select(b => (long)b).ToArray());
        return (images, labels);
    }

    private static (byte[], byte[]) Load(string prefix)
    {
        var images = ReadGzip(Path.Combine(Folder, $"{prefix}-images-idx3-ubyte.gz"))[16..];
        var labels = ReadGzip(Path.Combine(Folder, $"{prefix}-labels-idx1-ubyte.gz"))[8..];
        return (images, labels);
    }

    private static byte[] ReadGzip(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }
}
