// FashionVision quick start: train a small CNN on Fashion-MNIST and print its test accuracy.
// Read it top to bottom like a notebook. Run: dotnet run -c Release --project samples/01-QuickStart
using System.Diagnostics;
using FashionVision.Data;
using TorchSharp;
using static TorchSharp.torch;

// 1. Data. FashionMnistSource finds the files (Debian's dataset-fashion-mnist package, the cache, or a download).
var source = new FashionMnistSource();
using var train = source.Load(DatasetSplit.Train);
using var test = source.Load(DatasetSplit.Test);
var statistics = train.ComputeStatistics();
Console.WriteLine($"Fashion-MNIST: {train.Count:N0} training and {test.Count:N0} test images, {statistics}");

// 2. Batches: seeded shuffling, normalised with the statistics the library just computed.
const long seed = 42;
torch.manual_seed(seed);
using var trainLoader = new DataLoader(train, new DataLoaderOptions { BatchSize = 128, Seed = seed, Normalization = statistics });
using var testLoader = new DataLoader(test, new DataLoaderOptions { BatchSize = 512, Shuffle = false, Normalization = statistics });

// 3. A small CNN: conv 32-32, pool, conv 64-64, pool, BatchNorm, global average pooling, FC 128, dropout.
var model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding: 1), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Conv2d(32, 32, 3, padding: 1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding: 1), nn.BatchNorm2d(64), nn.ReLU(),
    nn.Conv2d(64, 64, 3, padding: 1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10));
var optimizer = optim.AdamW(model.parameters(), lr: 3e-3, weight_decay: 1e-4);

// 4. Train for two epochs.
const int epochs = 2;
var clock = Stopwatch.StartNew();
for (int epoch = 0; epoch < epochs; epoch++)
{
    model.train();
    double lossSum = 0;
    int batches = 0;
    foreach (var batch in trainLoader.GetBatches(epoch))
    {
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(model.call(batch.Images), batch.Labels);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        lossSum += loss.item<float>();
        batches++;
    }
    Console.WriteLine($"epoch {epoch + 1}/{epochs}: loss {lossSum / batches:0.0000} ({clock.Elapsed.TotalSeconds:0}s)");
}

// 5. Evaluate on the test set.
model.eval();
long correct = 0;
using (no_grad())
{
    foreach (var batch in testLoader.GetBatches())
    {
        using var scope = NewDisposeScope();
        correct += model.call(batch.Images).argmax(1).eq(batch.Labels).sum().item<long>();
    }
}
Console.WriteLine($"Test accuracy: {100.0 * correct / test.Count:0.00}% after {epochs} epochs in {clock.Elapsed.TotalSeconds:0}s");
