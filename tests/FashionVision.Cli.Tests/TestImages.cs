using FashionVision.Data;

namespace FashionVision.Cli.Tests;

/// <summary>Real Fashion-MNIST test images written as PNG files, the way a user would have them.</summary>
internal static class TestImages
{
    /// <summary>Writes the first <paramref name="count"/> test images to <paramref name="folder"/>/test-i.png and returns the paths.</summary>
    public static List<string> SavePngs(string folder, int count)
    {
        var images = new List<string>();
        using var test = new FashionMnistSource().Load(DatasetSplit.Test);
        for (int i = 0; i < count; i++)
        {
            string path = Path.Combine(folder, $"test-{i}.png");
            using var image = test.Images[i].to_type(ScalarType.Float32).div(255);
            FashionVision.Visualization.TensorImages.SavePng(image, path);
            images.Add(path);
        }
        return images;
    }
}
