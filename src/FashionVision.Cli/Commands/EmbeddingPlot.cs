using System.CommandLine;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Visualization;
using Spectre.Console;
using static TorchSharp.torch;

namespace FashionVision.Cli.Commands;

/// <summary>
/// <c>evaluate --embedding-plot FILE</c>: the penultimate features of the first N test images, their t-SNE map as a scatter
/// PNG coloured by class, and the per-class silhouette of the features (cluster tightness) and of the map.
/// </summary>
internal sealed class EmbeddingPlot
{
    private readonly Option<FileInfo?> _path = new("--embedding-plot")
    {
        Description = "Write a t-SNE scatter PNG of the penultimate features, coloured by class, and print per-class silhouettes",
    };
    private readonly Option<int> _images = CommonOptions.Int("--embedding-images", 2000, $"Test images in the embedding plot (at most {TsneOptions.MaxPoints})");
    private readonly Option<double> _perplexity = CommonOptions.Double("--perplexity", 30, "t-SNE perplexity (about the neighbours each point keeps)");
    private readonly Option<int> _iterations = CommonOptions.Int("--tsne-iterations", 1000, "t-SNE gradient-descent iterations");

    public EmbeddingPlot()
    {
        _images.Validators.Add(result =>
        {
            try
            {
                if (result.GetValueOrDefault<int>() > TsneOptions.MaxPoints)
                    result.AddError($"--embedding-images must be at most {TsneOptions.MaxPoints} (exact t-SNE holds N×N matrices).");
            }
            catch (InvalidOperationException)
            {
                // A value that does not parse is reported by the parser itself.
            }
        });
    }

    /// <summary>The options to add to the command.</summary>
    public IEnumerable<Option> Options => [_path, _images, _perplexity, _iterations];

    /// <summary>Writes the plot when <c>--embedding-plot</c> was given.</summary>
    public void RunIfRequested(ParseResult parse, CliContext context, nn.Module<Tensor, Tensor> network, InMemoryDataset test, ChannelStatistics? normalization, Device device, string title)
    {
        if (parse.GetValue(_path) is not { } file)
            return;
        if (network is not ImageClassifier model)
            throw new CliException("--embedding-plot draws one model's penultimate features; it cannot be combined with --ensemble.", CliApp.UsageError);
        int count = (int)Math.Min(parse.GetValue(_images), test.Count);
        double perplexity = parse.GetValue(_perplexity);
        if (perplexity >= count)
            throw new CliException($"--perplexity {perplexity} must be below the number of embedded images ({count}).");
        using var subset = count == test.Count ? null : test.Take(count);
        var images = subset ?? test;
        using var features = FeatureExtractor.Extract(model, images, new EvaluatorOptions { Device = device, Normalization = normalization });
        using var labels = images.Labels.cpu();
        var featureSilhouette = Silhouette.Compute(features, labels, images.NumClasses);
        using var map = Tsne.Fit(features, new TsneOptions { Perplexity = perplexity, Iterations = parse.GetValue(_iterations), Device = device });
        var mapSilhouette = Silhouette.Compute(map.Embedding, labels, images.NumClasses);
        EmbeddingScatter.SavePng(map.Embedding, labels, images.ClassNames, file.FullName,
            new ChartOptions(900, 760, $"{title}: t-SNE of {features.shape[1]}-d penultimate features, {count:N0} test images"),
            featureSilhouette.PerClass);

        context.Output.WriteLine();
        context.Output.WriteLine($"embedding: {count:N0} test images, {features.shape[1]} features; t-SNE perplexity {perplexity}, {map.Iterations} iterations, KL {map.KlDivergence:0.000}");
        var table = new Table().AddColumn("class").AddColumn(new TableColumn("silhouette (features)").RightAligned()).AddColumn(new TableColumn("silhouette (t-SNE map)").RightAligned());
        for (int c = 0; c < images.NumClasses; c++)
            table.AddRow(Markup.Escape(images.ClassNames[c]), featureSilhouette.PerClass[c].ToString("0.000"), mapSilhouette.PerClass[c].ToString("0.000"));
        table.AddRow("[bold]mean[/]", featureSilhouette.Mean.ToString("0.000"), mapSilhouette.Mean.ToString("0.000"));
        context.Console.Write(table);
        context.Output.WriteLine($"embedding plot: {file.FullName}");
    }
}
