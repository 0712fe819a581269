using System.Globalization;

namespace FashionVision.AspNetCore;

/// <summary>
/// The server-wide bound on decoding work in flight, counted in decoded pixels (a semaphore whose permits are pixels): a
/// request reserves every pixel it will decode before it decodes any and gives them back as soon as its images are decoded.
/// What does not fit waits in arrival order (first come, first served, so a large request is not starved by a stream of
/// medium ones) for at most the queue timeout, then is refused as busy; what can never fit is refused at once. Small
/// requests (at most <see cref="SmallRequestPixels"/>: 1/64 of the budget, dozens of model-sized images) are the exception:
/// they take room whenever there is some, without queueing behind a large one, so that ordinary uploads are not held up for
/// seconds behind a large decode. Decoding memory grows with the pixels decoded at the same time, so this is what bounds the
/// server's peak memory across requests.
/// </summary>
internal sealed class DecodingBudget
{
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private long _available;

    /// <param name="capacity">The most pixels decoded at once, over all requests.</param>
    public DecodingBudget(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _available = capacity;
    }

    /// <summary>The most pixels decoded at once.</summary>
    public long Capacity { get; }

    /// <summary>Requests of at most this many pixels (1/64 of <see cref="Capacity"/>) never queue behind larger ones.</summary>
    public long SmallRequestPixels => Capacity / 64;

    /// <summary>Pixels reserved right now.</summary>
    public long InFlight
    {
        get
        {
            lock (_gate)
                return Capacity - _available;
        }
    }

    /// <summary>Requests waiting for room right now.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
                return _waiters.Count;
        }
    }

    /// <summary>Reserves <paramref name="pixels"/>, waiting up to <paramref name="wait"/> for room; dispose the lease to give them back.</summary>
    /// <exception cref="RequestRejectedException">More pixels than <see cref="Capacity"/>: they can never fit (413).</exception>
    /// <exception cref="ServerBusyException">No room came within <paramref name="wait"/> (503).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    public async ValueTask<Lease> ReserveAsync(long pixels, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pixels);
        if (pixels > Capacity)
            throw new RequestRejectedException(413, string.Create(CultureInfo.InvariantCulture,
                $"the request would decode {pixels:N0} pixels, more than the server decodes at once over all requests ({Capacity:N0}); send fewer or smaller images."));
        Waiter waiter;
        lock (_gate)
        {
            if (_available >= pixels && (_waiters.Count == 0 || pixels <= SmallRequestPixels))
            {
                _available -= pixels;
                return new Lease(this, pixels);
            }
            waiter = new Waiter(pixels);
            waiter.Node = _waiters.AddLast(waiter);
        }
        try
        {
            await waiter.Granted.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            return new Lease(this, pixels);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            lock (_gate)
            {
                if (waiter.Node!.List is not null)
                {
                    // Still queued: leave the queue (which may let the requests behind this one in).
                    _waiters.Remove(waiter.Node);
                    GrantWaiters();
                    if (e is TimeoutException)
                        throw new ServerBusyException(string.Create(CultureInfo.InvariantCulture,
                            $"the server is decoding {Capacity - _available:N0} of at most {Capacity:N0} pixels at once and this request's {pixels:N0} did not fit within {wait.TotalSeconds:0.###} s; retry shortly."));
                    throw;
                }
            }
            // Granted at the same moment it gave up: give the pixels back.
            Release(pixels);
            if (e is TimeoutException)
                throw new ServerBusyException("the server was at its decoding capacity; retry shortly.");
            throw;
        }
    }

    private void Release(long pixels)
    {
        lock (_gate)
        {
            _available += pixels;
            GrantWaiters();
        }
    }

    /// <summary>Lets queued requests in, in order while the first one fits, then the small ones that fit. Called under the lock.</summary>
    private void GrantWaiters()
    {
        for (var node = _waiters.First; node is not null;)
        {
            var next = node.Next;
            var waiter = node.Value;
            var first = ReferenceEquals(node, _waiters.First);
            if (waiter.Pixels <= _available && (first || waiter.Pixels <= SmallRequestPixels))
            {
                _waiters.Remove(node);
                _available -= waiter.Pixels;
                waiter.Granted.TrySetResult();
            }
            else if (_available == 0)
                break;
            node = next;
        }
    }

    private sealed class Waiter(long pixels)
    {
        public long Pixels { get; } = pixels;

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }
    }

    /// <summary>Reserved pixels; disposing gives them back (once).</summary>
    public sealed class Lease : IDisposable
    {
        private DecodingBudget? _budget;

        internal Lease(DecodingBudget budget, long pixels)
        {
            _budget = budget;
            Pixels = pixels;
        }

        /// <summary>The pixels reserved.</summary>
        public long Pixels { get; }

        /// <inheritdoc />
        public void Dispose() => Interlocked.Exchange(ref _budget, null)?.Release(Pixels);
    }
}
