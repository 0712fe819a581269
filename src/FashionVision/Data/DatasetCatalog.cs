namespace FashionVision.Data;

/// <summary>The datasets known by name, for configuration files and the command line.</summary>
public static class DatasetCatalog
{
    private static readonly Dictionary<string, Func<DatasetOptions?, IDatasetSource>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["fashion-mnist"] = options => new FashionMnistSource(options),
        ["mnist"] = options => new MnistSource(options),
    };

    /// <summary>The registered names.</summary>
    public static IReadOnlyList<string> Names => Factories.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Creates the source registered as <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No dataset has that name; the message lists the valid ones.</exception>
    public static IDatasetSource Create(string name, DatasetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Factories.TryGetValue(name, out var factory))
            throw new ArgumentException($"Unknown dataset '{name}'. Valid names: {string.Join(", ", Names)}.", nameof(name));
        return factory(options);
    }

    /// <summary>Registers a dataset (replacing one of the same name).</summary>
    public static void Register(string name, Func<DatasetOptions?, IDatasetSource> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        lock (Factories)
            Factories[name] = factory;
    }
}
