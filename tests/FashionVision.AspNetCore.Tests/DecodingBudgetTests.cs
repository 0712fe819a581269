namespace FashionVision.AspNetCore.Tests;

/// <summary>The server-wide decoding budget: a semaphore counted in pixels, first come first served.</summary>
public sealed class DecodingBudgetTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Test]
    public async Task WhatFitsIsGrantedAtOnceAndGivenBackOnDispose()
    {
        var budget = new DecodingBudget(100);
        var a = await budget.ReserveAsync(60, TimeSpan.Zero, CancellationToken.None);
        var b = await budget.ReserveAsync(40, TimeSpan.Zero, CancellationToken.None);
        Assert.That(budget.InFlight, Is.EqualTo(100));
        a.Dispose();
        a.Dispose(); // once only
        Assert.That(budget.InFlight, Is.EqualTo(40));
        b.Dispose();
        Assert.That(budget.InFlight, Is.Zero);
    }

    [Test]
    public async Task WhatDoesNotFitWaitsInArrivalOrder()
    {
        var budget = new DecodingBudget(100);
        var first = await budget.ReserveAsync(80, TimeSpan.Zero, CancellationToken.None);
        var large = budget.ReserveAsync(70, Long, CancellationToken.None).AsTask();
        var small = budget.ReserveAsync(10, Long, CancellationToken.None).AsTask();
        await Task.Delay(50);
        // The small one would fit now, but it arrived after the large one: no overtaking, so the large one is not starved.
        Assert.Multiple(() =>
        {
            Assert.That(large.IsCompleted, Is.False);
            Assert.That(small.IsCompleted, Is.False);
            Assert.That(budget.Waiting, Is.EqualTo(2));
        });
        first.Dispose();
        using (await large.WaitAsync(Long))
        using (await small.WaitAsync(Long))
            Assert.That(budget.InFlight, Is.EqualTo(80));
        Assert.That(budget.InFlight, Is.Zero);
    }

    [Test]
    public async Task WhatWaitsTooLongIsBusyAndLeavesTheQueue()
    {
        var budget = new DecodingBudget(100);
        using var held = await budget.ReserveAsync(100, TimeSpan.Zero, CancellationToken.None);
        var busy = Assert.ThrowsAsync<ServerBusyException>(async () => await budget.ReserveAsync(50, TimeSpan.FromMilliseconds(50), CancellationToken.None));
        Assert.That(busy!.Message, Does.Contain("100 of at most 100 pixels").And.Contain("50 did not fit"));
        Assert.That(() => budget.ReserveAsync(1, TimeSpan.Zero, CancellationToken.None).AsTask(), Throws.TypeOf<ServerBusyException>());
        Assert.That(budget.Waiting, Is.Zero);
    }

    [Test]
    public async Task ACancelledWaiterLetsTheOnesBehindItIn()
    {
        var budget = new DecodingBudget(100);
        var held = await budget.ReserveAsync(50, TimeSpan.Zero, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var blocked = budget.ReserveAsync(100, Long, cancel.Token).AsTask();
        var behind = budget.ReserveAsync(30, Long, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.That(behind.IsCompleted, Is.False);
        await cancel.CancelAsync();
        Assert.That(async () => await blocked, Throws.InstanceOf<OperationCanceledException>());
        using (await behind.WaitAsync(Long))
            Assert.That(budget.InFlight, Is.EqualTo(80));
        held.Dispose();
        Assert.That(budget.InFlight, Is.Zero);
    }

    [Test]
    public async Task SmallRequestsDoNotQueueBehindALargeOne()
    {
        var budget = new DecodingBudget(6400); // small: at most 100 pixels
        var held = await budget.ReserveAsync(6000, TimeSpan.Zero, CancellationToken.None);
        var large = budget.ReserveAsync(1000, Long, CancellationToken.None).AsTask();
        var medium = budget.ReserveAsync(200, Long, CancellationToken.None).AsTask();
        using (var small = await budget.ReserveAsync(100, TimeSpan.Zero, CancellationToken.None))
        {
            Assert.That(small.Pixels, Is.EqualTo(100));
            await Task.Delay(50);
            Assert.That(medium.IsCompleted, Is.False, "a medium request waits its turn");
        }
        held.Dispose();
        using (await large.WaitAsync(Long))
        using (await medium.WaitAsync(Long))
            Assert.That(budget.InFlight, Is.EqualTo(1200));
    }

    [Test]
    public void WhatCanNeverFitIs413()
    {
        var budget = new DecodingBudget(100);
        var error = Assert.ThrowsAsync<RequestRejectedException>(async () => await budget.ReserveAsync(101, Long, CancellationToken.None));
        Assert.That(error!.StatusCode, Is.EqualTo(413));
        Assert.That(error.Message, Does.Contain("would decode 101 pixels").And.Contain("(100)"));
    }
}
