using FashionVision.Visualization;

namespace FashionVision.Imaging.Tests;

/// <summary>Writes images as PNG files in class folders (root/[split/]class/00042.png), the layout ImageFolderSource reads.</summary>
internal static class ImageFolderFixture
{
    /// <summary>Folder names for the Fashion-MNIST classes that sort in label order and are valid file names ("T-shirt/top" is not).</summary>
    public static readonly IReadOnlyList<string> FashionFolders =
        ["0-tshirt-top", "1-trouser", "2-pullover", "3-dress", "4-coat", "5-sandal", "6-shirt", "7-sneaker", "8-bag", "9-ankle-boot"];

    /// <summary>
    /// Writes uint8 images N×C×H×W into <paramref name="folder"/>/&lt;class folder&gt;/&lt;index&gt;.png and returns the order
    /// in which a folder source reads them back (by class, then by index): the indices into <paramref name="images"/>.
    /// </summary>
    public static long[] Write(string folder, Tensor images, long[] labels, IReadOnlyList<string> classFolders)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            var path = Path.Combine(folder, classFolders[(int)labels[i]], $"{i:D5}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, TensorImages.EncodePng(images[i]));
        }
        return Enumerable.Range(0, labels.Length).OrderBy(i => labels[i]).ThenBy(i => i).Select(i => (long)i).ToArray();
    }
}
