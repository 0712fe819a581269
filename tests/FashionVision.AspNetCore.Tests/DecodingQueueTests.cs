using System.Net;

namespace FashionVision.AspNetCore.Tests;

/// <summary>
/// Requests that do not fit under the decoding budget wait their turn: two 2048×1536 zero PNGs sent at once are decoded one after
/// the other and both answered, the process's peak resident memory stays within one image's cost, and its memory goes back
/// near where it was once they are answered.
/// </summary>
public sealed class DecodingQueueTests : WebAppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        // Generous: on a loaded machine one such decode can take many seconds.
        ["FashionVision:DecodeQueueTimeout"] = "00:05:00",
        ["FashionVision:RequestTimeout"] = "00:10:00",
    };

    [Test]
    public async Task ConcurrentBigImagesQueueAndAreAllAnswered()
    {
        ProcessMemory.RequireLinux();
        var big = TestImages.ZeroImage(2048, 1536);
        await AssertStillServing();
        GC.Collect();
        ProcessMemory.ResetPeak();
        var before = ProcessMemory.Current;

        var responses = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Client.PostAsync("/predict", Form(($"zero-{i}.png", big)))));
        var peak = ProcessMemory.Peak - before;
        foreach (var response in responses)
            using (response)
                Assert.That((await Json(response)).GetProperty("predictions").GetArrayLength(), Is.EqualTo(1));
        await Task.Delay(500);
        var after = ProcessMemory.Current - before;
        TestContext.Out.WriteLine($"resident memory: peak +{peak / 1048576.0:N0} MiB over the burst, +{after / 1048576.0:N0} MiB after it");
        Assert.Multiple(() =>
        {
            Assert.That(peak, Is.LessThan(DecodingLimitTests.BurstBound), "peak");
            Assert.That(after, Is.LessThan(128L * 1024 * 1024), "after the burst");
        });
    }
}
