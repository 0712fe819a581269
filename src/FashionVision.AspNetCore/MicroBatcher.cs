using System.Threading.Channels;
using FashionVision.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FashionVision.AspNetCore;

/// <summary>The server is at capacity: the micro-batching queue is full. Answered with 503.</summary>
public sealed class ServerBusyException(string message) : Exception(message);

/// <summary>
/// Gathers concurrent prediction requests into one <see cref="IPredictor.Predict"/> call. Each request waits on a task; a
/// worker takes the first waiting request, adds every other one already queued (and, with
/// <see cref="BatchingOptions.MaxDelay"/>, those that arrive within the delay) up to <see cref="BatchingOptions.MaxBatchSize"/>
/// images, runs the model once and hands each request its rows. A request cancelled while it waits is dropped from the run.
/// </summary>
public sealed class MicroBatcher : IAsyncDisposable
{
    private readonly IPredictor _predictor;
    private readonly BatchingOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<PendingRequest> _queue = Channel.CreateUnbounded<PendingRequest>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private readonly int _imageSize;
    private int _queuedImages;
    private long _runs;
    private long _images;

    /// <summary>Starts the workers.</summary>
    /// <param name="predictor">The model; the batcher does not own it.</param>
    /// <param name="options">Batch size, delay, queue capacity and workers; null for the defaults.</param>
    /// <param name="logger">Where failures of a run are logged.</param>
    public MicroBatcher(IPredictor predictor, BatchingOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        options ??= new BatchingOptions();
        options.Validate();
        _predictor = predictor;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        var (channels, height, width) = predictor.InputShape;
        _imageSize = channels * height * width;
        _workers = Enumerable.Range(0, options.Workers)
            .Select(_ => Task.Run(RunAsync))
            .ToArray();
    }

    /// <summary>Model runs so far.</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <summary>Images classified so far.</summary>
    public long Images => Interlocked.Read(ref _images);

    /// <summary>Classifies <paramref name="count"/> images (C×H×W each, in [0, 1]) in whatever run they are gathered into.</summary>
    /// <param name="pixels">The images, N×C×H×W row-major, at the predictor's input shape.</param>
    /// <param name="count">The number of images N.</param>
    /// <param name="topK">How many classes each prediction lists.</param>
    /// <param name="cancellationToken">Drops the request if it is still waiting.</param>
    /// <exception cref="ServerBusyException">The queue already holds <see cref="BatchingOptions.QueueCapacity"/> images.</exception>
    public Task<IReadOnlyList<Prediction>> PredictAsync(float[] pixels, int count, int topK, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        if (pixels.Length != (long)count * _imageSize)
            throw new ArgumentException($"{count} images need {(long)count * _imageSize} values, not {pixels.Length}.", nameof(pixels));
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        if (Interlocked.Add(ref _queuedImages, count) > _options.QueueCapacity)
        {
            Interlocked.Add(ref _queuedImages, -count);
            throw new ServerBusyException($"the server is at capacity ({_options.QueueCapacity} images are already waiting); retry shortly.");
        }
        var request = new PendingRequest(pixels, count, topK, cancellationToken);
        if (!_queue.Writer.TryWrite(request))
        {
            Interlocked.Add(ref _queuedImages, -count);
            throw new ObjectDisposedException(nameof(MicroBatcher));
        }
        return request.Task;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        PendingRequest? carried = null;
        try
        {
            while (carried is not null || await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                var batch = new List<PendingRequest>();
                var images = 0;
                if (carried is not null)
                {
                    Add(carried);
                    carried = null;
                }
                while (images < _options.MaxBatchSize && carried is null && reader.TryRead(out var next))
                    Take(next);
                if (_options.MaxDelay > TimeSpan.Zero && images < _options.MaxBatchSize && carried is null)
                {
                    using var window = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    window.CancelAfter(_options.MaxDelay);
                    try
                    {
                        while (images < _options.MaxBatchSize && carried is null && await reader.WaitToReadAsync(window.Token).ConfigureAwait(false))
                            while (images < _options.MaxBatchSize && carried is null && reader.TryRead(out var next))
                                Take(next);
                    }
                    catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
                    {
                        // The delay is over: run what was gathered.
                    }
                }
                if (batch.Count > 0)
                    Run(batch, images);

                void Take(PendingRequest next)
                {
                    if (images > 0 && images + next.Count > _options.MaxBatchSize)
                        carried = next;
                    else
                        Add(next);
                }

                void Add(PendingRequest request)
                {
                    if (request.Task.IsCompleted)
                    {
                        Interlocked.Add(ref _queuedImages, -request.Count);
                        return;
                    }
                    batch.Add(request);
                    images += request.Count;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        carried?.Fail(new ObjectDisposedException(nameof(MicroBatcher)));
    }

    private void Run(List<PendingRequest> batch, int images)
    {
        Interlocked.Add(ref _queuedImages, -images);
        try
        {
            float[] pixels;
            if (batch.Count == 1)
                pixels = batch[0].Pixels;
            else
            {
                pixels = new float[images * _imageSize];
                var offset = 0;
                foreach (var request in batch)
                {
                    request.Pixels.CopyTo(pixels, offset);
                    offset += request.Pixels.Length;
                }
            }
            var predictions = _predictor.Predict(pixels, images, _predictor.ClassNames.Count);
            Interlocked.Increment(ref _runs);
            Interlocked.Add(ref _images, images);
            var start = 0;
            foreach (var request in batch)
            {
                var rows = new Prediction[request.Count];
                for (var i = 0; i < request.Count; i++)
                {
                    var p = predictions[start + i];
                    rows[i] = p with { TopK = p.TopK.Take(request.TopK).ToArray() };
                }
                start += request.Count;
                request.Complete(rows);
            }
        }
        catch (Exception e)
        {
            _logger.LogError(e, "A batch of {Images} images from {Requests} requests failed", images, batch.Count);
            foreach (var request in batch)
                request.Fail(e);
        }
    }

    /// <summary>Stops the workers; requests still waiting fail with <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_workers).ConfigureAwait(false);
        while (_queue.Reader.TryRead(out var request))
            request.Fail(new ObjectDisposedException(nameof(MicroBatcher)));
        _stop.Dispose();
    }

    private sealed class PendingRequest
    {
        private readonly TaskCompletionSource<IReadOnlyList<Prediction>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration _registration;

        public PendingRequest(float[] pixels, int count, int topK, CancellationToken cancellationToken)
        {
            Pixels = pixels;
            Count = count;
            TopK = topK;
            if (cancellationToken.CanBeCanceled)
                _registration = cancellationToken.Register(() => _completion.TrySetCanceled(cancellationToken));
        }

        public float[] Pixels { get; }

        public int Count { get; }

        public int TopK { get; }

        public Task<IReadOnlyList<Prediction>> Task => _completion.Task;

        public void Complete(IReadOnlyList<Prediction> predictions)
        {
            _registration.Dispose();
            _completion.TrySetResult(predictions);
        }

        public void Fail(Exception error)
        {
            _registration.Dispose();
            _completion.TrySetException(error);
        }
    }
}
