using FashionVision.Inference;

namespace FashionVision.AspNetCore.Tests;

/// <summary>
/// The micro-batcher with a predictor that holds its first run until released: requests sent meanwhile must wait, so what
/// they are gathered into is deterministic.
/// </summary>
public sealed class MicroBatcherTests
{
    [Test]
    public async Task RequestsQueuedDuringARunAreGatheredIntoOneRunAndGetTheirOwnRows()
    {
        using var predictor = new HeldPredictor();
        await using var batcher = new MicroBatcher(predictor, new BatchingOptions { MaxBatchSize = 32 });
        var first = batcher.PredictAsync([0], 1, 1);
        predictor.WaitUntilRunning();
        var queued = new[]
        {
            batcher.PredictAsync([1], 1, 1),
            batcher.PredictAsync([2, 0], 2, 2),
            batcher.PredictAsync([1], 1, 3),
        };
        predictor.Release();
        var results = await Task.WhenAll(queued.Prepend(first));

        Assert.Multiple(() =>
        {
            Assert.That(predictor.Runs, Is.EqualTo(new[] { 1, 4 }), "one run for the first request, one for the three that queued behind it");
            Assert.That(results.Select(r => r.Select(p => p.ClassIndex)), Is.EqualTo(new[] { new[] { 0 }, new[] { 1 }, new[] { 2, 0 }, new[] { 1 } }));
            Assert.That(results.Select(r => r[0].TopK.Count), Is.EqualTo(new[] { 1, 1, 2, 3 }), "each request's own top-k");
            Assert.That(batcher.Runs, Is.EqualTo(2));
            Assert.That(batcher.Images, Is.EqualTo(5));
        });
    }

    [Test]
    public async Task ABatchNeverExceedsMaxBatchSize()
    {
        using var predictor = new HeldPredictor();
        await using var batcher = new MicroBatcher(predictor, new BatchingOptions { MaxBatchSize = 3 });
        var first = batcher.PredictAsync([0], 1, 1);
        predictor.WaitUntilRunning();
        var queued = new[] { batcher.PredictAsync([1], 1, 1), batcher.PredictAsync([2, 2], 2, 1), batcher.PredictAsync([0, 1], 2, 1) };
        predictor.Release();
        await Task.WhenAll(queued.Prepend(first));
        Assert.That(predictor.Runs, Is.EqualTo(new[] { 1, 3, 2 }));
    }

    [Test]
    public async Task AFullQueueRefusesAtOnceAndACancelledRequestIsDropped()
    {
        using var predictor = new HeldPredictor();
        await using var batcher = new MicroBatcher(predictor, new BatchingOptions { QueueCapacity = 3 });
        var first = batcher.PredictAsync([0], 1, 1);
        predictor.WaitUntilRunning();
        using var cancel = new CancellationTokenSource();
        var cancelled = batcher.PredictAsync([1, 1], 2, 1, cancel.Token);
        var kept = batcher.PredictAsync([2], 1, 1);
        Assert.That(() => batcher.PredictAsync([0], 1, 1), Throws.TypeOf<ServerBusyException>().With.Message.Contains("3 images"));
        cancel.Cancel();
        Assert.That(async () => await cancelled, Throws.InstanceOf<OperationCanceledException>());
        predictor.Release();
        await Task.WhenAll(first, kept);
        Assert.That(predictor.Runs, Is.EqualTo(new[] { 1, 1 }), "the cancelled request's two images never ran");
        Assert.That((await batcher.PredictAsync([2], 1, 1))[0].ClassIndex, Is.EqualTo(2), "the queue has room again");
    }

    [Test]
    public async Task AFailedRunFailsItsRequestsAndTheBatcherGoesOn()
    {
        using var predictor = new HeldPredictor { FailOnPixel = 2, HoldFirstRun = false };
        await using var batcher = new MicroBatcher(predictor);
        Assert.That(async () => await batcher.PredictAsync([2], 1, 1), Throws.InvalidOperationException.With.Message.Contains("broken"));
        Assert.That((await batcher.PredictAsync([1], 1, 1))[0].ClassIndex, Is.EqualTo(1));
    }

    /// <summary>
    /// A 1×1×1 "model" with three classes that predicts class = the pixel's value. Its first run waits for <see cref="Release"/>.
    /// </summary>
    private sealed class HeldPredictor : IPredictor
    {
        private readonly ManualResetEventSlim _running = new();
        private readonly ManualResetEventSlim _released = new();
        private readonly List<int> _runs = [];

        public float? FailOnPixel { get; init; }

        public bool HoldFirstRun { get; init; } = true;

        public IReadOnlyList<int> Runs { get { lock (_runs) return _runs.ToArray(); } }

        public IReadOnlyList<string> ClassNames { get; } = ["zero", "one", "two"];

        public (int Channels, int Height, int Width) InputShape => (1, 1, 1);

        public void WaitUntilRunning() => Assert.That(_running.Wait(TimeSpan.FromSeconds(30)), Is.True, "the first run started");

        public void Release() => _released.Set();

        public IReadOnlyList<Prediction> Predict(ReadOnlySpan<float> pixels, int count, int topK = 3)
        {
            if (FailOnPixel is { } fail && pixels.Contains(fail))
                throw new InvalidOperationException("broken model");
            if (HoldFirstRun && !_running.IsSet)
            {
                _running.Set();
                _released.Wait(TimeSpan.FromSeconds(30));
            }
            lock (_runs)
                _runs.Add(count);
            var predictions = new Prediction[count];
            for (var i = 0; i < count; i++)
            {
                var k = (int)pixels[i];
                var probabilities = Enumerable.Range(0, 3).Select(c => c == k ? 0.8f : 0.1f).ToArray();
                var top = Enumerable.Range(0, 3).OrderByDescending(c => probabilities[c]).ThenBy(c => c).Take(topK)
                    .Select(c => new ClassProbability(c, ClassNames[c], probabilities[c])).ToArray();
                predictions[i] = new Prediction(k, ClassNames[k], probabilities, top);
            }
            return predictions;
        }

        public void Dispose()
        {
            _released.Set();
            _running.Dispose();
            _released.Dispose();
        }
    }
}
