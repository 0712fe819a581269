using System.Net;

namespace FashionVision.AspNetCore.Tests;

/// <summary>
/// The decoding budget with its defaults (at most 2048×1536 pixels per request, 2048×2048 in flight over all requests)
/// against all-zero PNGs, tiny on the wire and huge to decode. 4096×4096 ones (16.5 KB each), alone, several in one request
/// or several requests at once, are refused from their headers with 413 and cost no decoding memory; 2048×1536 ones sent at
/// once are held to the budget (here with no waiting: one is decoded, the rest get 503 at once, while a small upload still
/// gets through), and the process's peak resident memory over the burst stays within what one such image costs to decode.
/// </summary>
public sealed class DecodingLimitTests : WebAppFixture
{
    /// <summary>
    /// The most the process's resident memory may rise over a burst while one 2048×1536 image is decoded: about 120 bytes a pixel
    /// (0.37 GB) plus slack; two decoded at once would pass it.
    /// </summary>
    internal const long BurstBound = 560L * 1024 * 1024;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["FashionVision:DecodeQueueTimeout"] = "00:00:00",
        ["FashionVision:RequestTimeout"] = "00:02:00",
    };

    [Test]
    public async Task ManyBigImagesInOneRequestAre413FromTheirHeaders()
    {
        var big = TestImages.ZeroImage(4096);
        Assert.That(big, Has.Length.LessThan(20 * 1024));
        using (var form = Form(Enumerable.Range(0, 8).Select(i => ($"zero-{i}.png", big)).ToArray()))
        using (var response = await Client.PostAsync("/predict", form))
            await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge,
                "the request's 8 image(s) would decode to 134,217,728 pixels; at most 3,145,728 are decoded per request.");
        var fits = TestImages.ZeroImage(2048, 1536);
        using (var form = Form(("a.png", fits), ("b.png", fits)))
        using (var response = await Client.PostAsync("/predict", form))
            await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "would decode to 6,291,456 pixels");
        await AssertStillServing();
    }

    [Test]
    public async Task ABurstOf4096ImagesIsRefusedWithoutDecoding()
    {
        ProcessMemory.RequireLinux();
        var big = TestImages.ZeroImage(4096);
        await AssertStillServing();
        GC.Collect();
        ProcessMemory.ResetPeak();
        var before = ProcessMemory.Current;

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Client.PostAsync("/predict", Form(($"zero-{i}.png", big)))));
        var peak = ProcessMemory.Peak - before;
        foreach (var response in responses)
            using (response)
                await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "would decode to 16,777,216 pixels; at most 3,145,728");
        TestContext.Out.WriteLine($"peak resident memory over the burst: +{peak / 1048576.0:N0} MiB");
        Assert.That(peak, Is.LessThan(100L * 1024 * 1024), $"peak +{peak / 1048576.0:N0} MiB");
        await AssertStillServing();
    }

    [Test]
    public async Task ConcurrentBigImagesAreHeldToTheDecodingBudget()
    {
        ProcessMemory.RequireLinux();
        var big = TestImages.ZeroImage(2048, 1536);
        await AssertStillServing();
        GC.Collect();
        ProcessMemory.ResetPeak();
        var before = ProcessMemory.Current;

        var burst = Enumerable.Range(0, 4).Select(i => Client.PostAsync("/predict", Form(($"zero-{i}.png", big)))).ToArray();
        // While the budget is taken by a large decode, a small upload does not queue behind it.
        await AssertStillServing();
        var responses = await Task.WhenAll(burst);
        var peak = ProcessMemory.Peak - before;
        try
        {
            var ok = responses.Where(r => r.StatusCode == HttpStatusCode.OK).ToArray();
            var busy = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToArray();
            // The budget holds one such image at a time; a request that arrives after an earlier one has finished decoding
            // gets its turn too, so how many are served depends on the machine's speed, never more than the budget allows.
            string codes = string.Join(", ", responses.Select(r => (int)r.StatusCode));
            Assert.That(ok, Is.Not.Empty, codes);
            Assert.That(busy, Is.Not.Empty, codes + ": four at once cannot all fit");
            Assert.That(ok.Length + busy.Length, Is.EqualTo(4), codes);
            foreach (var response in busy)
            {
                Assert.That(response.Headers.RetryAfter, Is.Not.Null);
                await AssertProblem(response, HttpStatusCode.ServiceUnavailable, "did not fit within 0 s; retry shortly.");
            }
            TestContext.Out.WriteLine($"peak resident memory over the burst: +{peak / 1048576.0:N0} MiB");
            Assert.That(peak, Is.LessThan(BurstBound), $"peak +{peak / 1048576.0:N0} MiB");
        }
        finally
        {
            foreach (var response in responses)
                response.Dispose();
        }
        await AssertStillServing();
    }
}
