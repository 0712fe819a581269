// 02 · Augmentation: what each transform does to real Fashion-MNIST images, drawn as PNG grids, and what it costs.
//
// Run:   dotnet run -c Release --project samples/02-Augmentation [-- --quick] [--output folder]
// Measured on the 2-core reference machine (2026-11-23 05:52, the default run, 30 repeats; a low-priority build ran
// beside it): 11 grids written and timed in 2.6 s of wall time; stopwatch throughput on 256-image CPU batches:
// 'standard' 126,586 images/s, 'strong' 51,135 images/s (the careful BenchmarkDotNet figures for each op are in
// docs/benchmarks.md). Under heavy load (`--quick`, 5 repeats, other builds on the cores) the same took 7.7 s.
//
// Read it top to bottom like a notebook. Every transform in FashionVision.Transforms works on a whole batch at once
// (N×C×H×W on the batch's device) and draws its random parameters per sample from a seeded torch.Generator, so one
// call gives every image its own rotation, crop or erased patch, and the same seed gives the same batch.
using System.Diagnostics;
using FashionVision.Data;
using FashionVision.Transforms;
using FashionVision.Visualization;
using TorchSharp;
using static TorchSharp.torch;

bool quick = args.Contains("--quick");
int outputAt = Array.IndexOf(args, "--output");
string output = Path.GetFullPath(outputAt >= 0 && outputAt + 1 < args.Length ? args[outputAt + 1] : "augmentation-output");
Directory.CreateDirectory(output);
var clock = Stopwatch.StartNew();

// ## 1. Ten test images, one per class
// We take the first test image of each class so that every grid row shows the whole label set.
var source = new FashionMnistSource();
using var test = source.Load(DatasetSplit.Test);
long[] firstOfClass = Enumerable.Range(0, test.NumClasses)
    .Select(c => test.Labels.eq(c).nonzero()[0, 0].item<long>())
    .ToArray();
using var originals = test.Images.index_select(0, tensor(firstOfClass)).to_type(ScalarType.Float32).div_(255); // 10×1×28×28 in [0, 1]
using var labels = tensor(Enumerable.Range(0, test.NumClasses).Select(c => (long)c).ToArray());
Console.WriteLine($"Picked one test image of each of the {test.NumClasses} classes: {string.Join(", ", test.ClassNames)}");

// ## 2. One grid per transform
// Each grid has four rows: the same ten images, augmented four times with different random draws. The first row of
// the file is the original batch. p = 1 everywhere so that every image shows the effect.
var transforms = new (string Name, IBatchTransform Transform)[]
{
    ("horizontal-flip", new RandomHorizontalFlip(p: 1)),
    ("rotation", new RandomRotation(degrees: 30, p: 1)),
    ("affine", new RandomAffine(degrees: 15, translate: 0.1, scale: (0.8, 1.2), shear: 10, p: 1)),
    ("resized-crop", new RandomResizedCrop(28, 28, scale: (0.5, 1.0), p: 1)),
    ("elastic", new ElasticDistortion(alpha: 34, sigma: 4, p: 1)),
    ("erasing", new RandomErasing(p: 1)),
    ("trivial-augment", new TrivialAugment()),
};
var generator = new torch.Generator(2024);
foreach (var (name, transform) in transforms)
    SaveGrid(name, transform);

// ## 3. The presets the CLI's --augmentation offers
// A preset is a Compose chain; Describe() prints exactly what it will do.
foreach (var preset in AugmentationPresets.Names.Where(n => n != "none"))
{
    var chain = AugmentationPresets.Get(preset, test.NumClasses);
    Console.WriteLine($"preset {preset}: {chain.Describe()}");
    SaveGrid("preset-" + preset, chain);
}

// ## 4. What it costs
// The point of batched augmentation: it must be cheap next to a training step. We time the 'standard' and 'strong'
// presets on 256-image batches on the CPU (a stopwatch here; the benchmarks project has the careful figures).
int batchSize = 256, repeats = quick ? 5 : 30;
using var batch = test.Images[..batchSize].to_type(ScalarType.Float32).div_(255);
using var batchLabels = test.Labels[..batchSize];
foreach (var preset in new[] { "standard", "strong" })
{
    var chain = AugmentationPresets.Get(preset, test.NumClasses);
    Apply(chain, batch, batchLabels); // warm-up
    var timer = Stopwatch.StartNew();
    for (int i = 0; i < repeats; i++)
        Apply(chain, batch, batchLabels);
    timer.Stop();
    Console.WriteLine($"preset {preset}: {repeats * batchSize / timer.Elapsed.TotalSeconds:N0} images/s on 256-image batches");
}

Console.WriteLine($"Wrote {transforms.Length + AugmentationPresets.Names.Count - 1} grids to {output} in {clock.Elapsed.TotalSeconds:0.0}s");

void SaveGrid(string name, IBatchTransform transform)
{
    using var scope = NewDisposeScope();
    var rows = new List<Tensor> { originals };
    for (int row = 0; row < 4; row++)
        rows.Add(transform.Apply(originals, labels, generator).Images.clamp(0, 1));
    var grid = cat(rows, 0);
    var captions = Enumerable.Range(0, grid.shape[0] is var n ? (int)n : 0)
        .Select(i => new ImageCaption(i < test.NumClasses ? test.ClassNames[i] : ""))
        .ToArray();
    string path = Path.Combine(output, $"{name}.png");
    ImageGrid.SavePng(grid, path, captions, new ImageGridOptions(Columns: test.NumClasses, Scale: 3, Title: $"{name}: original (top) and four random draws"));
    Console.WriteLine($"  {name,-20} -> {path}");
}

static void Apply(IBatchTransform chain, Tensor images, Tensor targets)
{
    using var scope = NewDisposeScope();
    chain.Apply(images, targets, new torch.Generator(1));
}
