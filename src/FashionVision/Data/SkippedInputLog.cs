using Microsoft.Extensions.Logging;

namespace FashionVision.Data;

/// <summary>
/// Collects the inputs a source skips (thread-safe) and logs each as a warning, up to a limit so that a file with thousands
/// of bad rows does not flood the log; <see cref="Complete"/> logs the total and returns the list in input order.
/// </summary>
internal sealed class SkippedInputLog(ILogger logger, string datasetName, int maxLogged = 20)
{
    private readonly List<(long Order, SkippedInput Input)> _skipped = [];

    /// <summary>How many inputs were skipped so far.</summary>
    public int Count
    {
        get
        {
            lock (_skipped)
                return _skipped.Count;
        }
    }

    /// <summary>Records one skipped input; <paramref name="order"/> sorts the final list (a row or file index).</summary>
    public void Add(long order, SkippedInput input)
    {
        int count;
        lock (_skipped)
        {
            _skipped.Add((order, input));
            count = _skipped.Count;
        }
        if (count <= maxLogged)
            logger.LogWarning("{Dataset}: skipped {Input}", datasetName, input.ToString());
    }

    /// <summary>Logs the total (when anything was skipped) and returns the skipped inputs in input order.</summary>
    public IReadOnlyList<SkippedInput> Complete()
    {
        lock (_skipped)
        {
            if (_skipped.Count > 0)
                logger.LogWarning("{Dataset}: skipped {Count} unusable input(s){More}", datasetName, _skipped.Count,
                    _skipped.Count > maxLogged ? $"; the first {maxLogged} are listed above" : "");
            return _skipped.OrderBy(s => s.Order).Select(s => s.Input).ToList();
        }
    }
}
