using BenchmarkDotNet.Attributes;
using FashionVision.Data;
using FashionVision.Imaging;
using FashionVision.Visualization;

namespace FashionVision.Benchmarks;

/// <summary>
/// The Fashion-MNIST test set (10,000 images) as 28×28 PNG files in class folders, loaded three ways: the raw IDX file
/// (the baseline), the folder with its IDX cache warm (list and stat the files, hash the key, read the cache), and the
/// folder decoded from scratch (parallel PNG decoding, no cache). Target: the cached load close to the IDX baseline.
/// </summary>
[MemoryDiagnoser]
public class ImageFolderBenchmarks
{
    private string _root = "";
    private string _idx = "";

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "fv-bench-image-folder");
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
        using var test = new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Load(DatasetSplit.Test);
        var labels = test.Labels.data<long>().ToArray();
        for (int i = 0; i < labels.Length; i++)
        {
            string path = Path.Combine(_root, "images", $"class-{labels[i]}", $"{i:D5}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var image = test.Images[i];
            File.WriteAllBytes(path, TensorImages.EncodePng(image));
        }
        _idx = Path.Combine(_root, "t10k-images-idx3-ubyte");
        IdxWriter.WriteImages(_idx, test.Images);
        using var warm = new ImageFolderSource(Path.Combine(_root, "images")).Load(DatasetSplit.Train);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark(Baseline = true, Description = "IDX raw file (7.8 MB) -> uint8 tensor")]
    public long Idx()
    {
        using var images = IdxReader.ReadImages(_idx);
        return images.shape[0];
    }

    [Benchmark(Description = "folder of 10,000 PNGs, cache warm -> InMemoryDataset")]
    public long FolderCached()
    {
        using var dataset = new ImageFolderSource(Path.Combine(_root, "images")).Load(DatasetSplit.Train);
        return dataset.Count;
    }

    [Benchmark(Description = "folder of 10,000 PNGs, decoded in parallel -> InMemoryDataset")]
    public long FolderDecoded()
    {
        using var dataset = new ImageFolderSource(Path.Combine(_root, "images"), new ImageFolderOptions { UseCache = false }).Load(DatasetSplit.Train);
        return dataset.Count;
    }
}
