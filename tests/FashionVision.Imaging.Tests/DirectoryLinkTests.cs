using FashionVision.Data;
using FashionVision.Tests.Data;
using FashionVision.Visualization;

namespace FashionVision.Imaging.Tests;

/// <summary>
/// Directory links in an image folder: skipped (with a warning) by default, so a loop or a link to another class cannot
/// multiply or mislabel images; followed on request, with a <see cref="DirectoryLinkException"/> for the dangerous ones.
/// </summary>
public class DirectoryLinkTests
{
    private string _root = "";
    private string _outside = "";

    [SetUp]
    public void CreateRoot()
    {
        Assume.That(!OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        _root = Path.Combine(Path.GetTempPath(), "fv-links-" + Guid.NewGuid().ToString("N"));
        _outside = _root + "-outside";
        // train/alpha holds two images, train/beta one; test/ mirrors it with one each.
        Png("train/alpha/0.png", 1);
        Png("train/alpha/1.png", 2);
        Png("train/beta/0.png", 3);
        Png("test/alpha/0.png", 4);
        Png("test/beta/0.png", 5);
    }

    [TearDown]
    public void DeleteRoot()
    {
        foreach (var folder in new[] { _root, _outside })
        {
            if (folder.Length > 0 && Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    private void Png(string relativePath, int seed, string? root = null)
    {
        var path = Path.Combine(root ?? _root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var image = randint(0, 256, [1, 8, 8], dtype: ScalarType.Byte, generator: new Generator((ulong)seed));
        File.WriteAllBytes(path, TensorImages.EncodePng(image));
    }

    private string Link(string relativePath, string target)
    {
        string path = Path.Combine(_root, relativePath);
        Directory.CreateSymbolicLink(path, target);
        return path;
    }

    private static long[] Counts(ImageFolderSource source) =>
        source.ListFiles(DatasetSplit.Train).GroupBy(f => f.Label).OrderBy(g => g.Key).Select(g => (long)g.Count()).ToArray();

    [Test]
    public void ALoopIsSkippedWithAWarning_AndFollowingItNamesTheLink()
    {
        string loop = Link("train/alpha/loop", "..");
        var logger = new ListLogger();

        var source = new ImageFolderSource(_root, new ImageFolderOptions { UseCache = false, Logger = logger });
        using var train = source.Load(DatasetSplit.Train);

        Assert.Multiple(() =>
        {
            Assert.That(Counts(source), Is.EqualTo(new long[] { 2, 1 }), "the three real files, each once");
            Assert.That(train.ClassCounts(), Is.EqualTo(new long[] { 2, 1 }));
            Assert.That(logger.Warnings.Count(w => w.Contains(loop) && w.Contains("not followed")), Is.EqualTo(1), "one warning per link");
        });
        var followed = new ImageFolderSource(_root, new ImageFolderOptions { UseCache = false, FollowDirectoryLinks = true });
        var error = Assert.Throws<DirectoryLinkException>(() => followed.ListFiles(DatasetSplit.Train))!;
        Assert.Multiple(() =>
        {
            Assert.That(error.LinkPath, Is.EqualTo(loop));
            Assert.That(error.Message, Does.StartWith(loop).And.Contain("a loop"));
        });
    }

    [Test]
    public void ALinkOutOfTheRootIsSkipped_AndFollowingItIsAnError()
    {
        Png("more/0.png", 6, _outside);
        string link = Link("train/beta/more", Path.Combine(_outside, "more"));

        Assert.That(Counts(new ImageFolderSource(_root, new ImageFolderOptions { UseCache = false })), Is.EqualTo(new long[] { 2, 1 }));
        var followed = new ImageFolderSource(_root, new ImageFolderOptions { UseCache = false, FollowDirectoryLinks = true });
        var error = Assert.Throws<DirectoryLinkException>(() => followed.ListFiles(DatasetSplit.Train))!;
        Assert.Multiple(() =>
        {
            Assert.That(error.LinkPath, Is.EqualTo(link));
            Assert.That(error.Message, Does.Contain("leads out of the dataset folder"));
        });
    }

    [Test]
    public void ALinkToASiblingClassIsSkipped_AndFollowingItIsAnError()
    {
        string link = Link("train/alpha/beta-too", Path.Combine("..", "beta"));

        Assert.That(Counts(new ImageFolderSource(_root, new ImageFolderOptions { UseCache = false })), Is.EqualTo(new long[] { 2, 1 }));
        var followed = new ImageFolderSource(_root, new ImageFolderOptions { UseCache = false, FollowDirectoryLinks = true });
        var error = Assert.Throws<DirectoryLinkException>(() => followed.ListFiles(DatasetSplit.Train))!;
        Assert.Multiple(() =>
        {
            Assert.That(error.LinkPath, Is.EqualTo(link));
            Assert.That(error.Message, Does.Contain("class folder").And.Contain(Path.Combine("train", "beta")));
        });
        // A class folder that is itself a link to another class would give its images two labels too.
        Directory.Delete(link);
        string classLink = Link("train/gamma", "beta");
        Assert.That(new ImageFolderSource(_root, new ImageFolderOptions { UseCache = false }).ClassNames, Is.EqualTo(new[] { "alpha", "beta" }));
        var error2 = Assert.Throws<DirectoryLinkException>(() => _ = new ImageFolderSource(_root, new ImageFolderOptions { FollowDirectoryLinks = true }).ClassNames)!;
        Assert.That(error2.LinkPath, Is.EqualTo(classLink));
    }

    [Test]
    public void AFollowedLinkInsideTheRootToImagesReadNowhereElseIsRead()
    {
        // A pool inside the dataset folder (hidden, so not a class itself) that a class folder links to.
        Png(".pool/alpha-extra/0.png", 7);
        Link("train/alpha/extra", Path.Combine("..", "..", ".pool", "alpha-extra"));

        var source = new ImageFolderSource(_root, new ImageFolderOptions { UseCache = false, FollowDirectoryLinks = true });

        Assert.That(Counts(source), Is.EqualTo(new long[] { 3, 1 }));
        // A second link to the same pool would read its images twice.
        string second = Link("train/alpha/extra-again", Path.Combine("..", "..", ".pool", "alpha-extra"));
        var error = Assert.Throws<DirectoryLinkException>(() => source.ListFiles(DatasetSplit.Train))!;
        Assert.That(error.LinkPath, Is.EqualTo(second).Or.EqualTo(Path.Combine(_root, "train", "alpha", "extra")));
    }

    [Test]
    public void RealPathResolvesEveryLinkAlongThePath()
    {
        Directory.CreateDirectory(Path.Combine(_root, "a", "b"));
        Link("a/up", "..");
        Link("c", Path.Combine("a", "b"));
        Assert.Multiple(() =>
        {
            Assert.That(FolderTree.RealPath(Path.Combine(_root, "a", "up", "a", "up", "c")), Is.EqualTo(FolderTree.RealPath(Path.Combine(_root, "a", "b"))));
            Assert.That(FolderTree.RealPath(Path.Combine(_root, "c", "..")), Is.EqualTo(FolderTree.RealPath(Path.Combine(_root, "a"))), "'..' goes up from the link's target");
        });
    }
}
