// 05 · Transfer learning with ResNet-18 and ImageNet-style input.
//
// Run:   dotnet run -c Release --project samples/05-Transfer [-- --quick] [--weights resnet18.safetensors]
// Measured on the 2-core reference machine (2026-11-23 05:50, the default run: 2,000 training and 1,000 test images at
// 3×112×112, no --weights, so a randomly initialised backbone; a low-priority build ran beside it): 117 s of wall time
// in all. Head only (3 epochs, 5,130 trainable parameters): 56.20%; after one epoch of full fine-tuning: 77.10% (Shirt
// the weakest class at F1 0.33). `--quick` (512/256 images at 3×64×64, 1 epoch each): 17.58% head only, 71.88% after
// fine-tuning, in 8 s. With torchvision's ImageNet weights (--weights): not measured here, since the reference machine
// cannot download them (no access to download.pytorch.org); the loading path itself is tested against a state dict
// written in torchvision's layout.
//
// Read it top to bottom like a notebook. The zoo's `resnet18-imagenet` is torchvision's resnet18, parameter for
// parameter: 7×7/2 stem, max-pool, 3-channel 224×224 input. That is what lets it load ImageNet weights exported from
// PyTorch (`safetensors.torch.save_file(torchvision.models.resnet18(weights="DEFAULT").state_dict(), "resnet18.safetensors")`).
// Fashion-MNIST is 1×28×28, so the images are made ImageNet-shaped first: upsampled and the gray channel repeated.
// The fine-tuning recipe: load the backbone, replace the 1000-class head with a 10-class one, freeze the backbone,
// train only the head, then (optionally) unfreeze everything at a low learning rate.
// Without --weights the backbone starts from random weights: the code path is the same, the accuracy is not what
// pretrained features give. On 2 CPU cores a 224×224 ResNet-18 manages only a few dozen images per second, so the
// default is a small subset at 112×112 (the network's adaptive pooling accepts any size ≥ 32).
using System.Diagnostics;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Training;
using TorchSharp;
using static TorchSharp.torch;

bool quick = args.Contains("--quick");
int weightsAt = Array.IndexOf(args, "--weights");
string? weights = weightsAt >= 0 && weightsAt + 1 < args.Length ? args[weightsAt + 1] : null;
int side = quick ? 64 : 112;
int trainImages = quick ? 512 : 2_000;
int testImages = quick ? 256 : 1_000;
const long seed = 5;
var clock = Stopwatch.StartNew();

// ## 1. ImageNet-shaped data
// One interpolate call over the whole split: N×1×28×28 uint8 → N×3×side×side uint8. The loader later scales to [0, 1]
// and normalises per channel with statistics computed from the resized images.
var source = new FashionMnistSource();
using var fullTrain = source.Load(DatasetSplit.Train);
using var fullTest = source.Load(DatasetSplit.Test);
using var train = ToImageNetShape(fullTrain.Take(trainImages), side);
using var test = ToImageNetShape(fullTest.Take(testImages), side);
Console.WriteLine($"{train.Count:N0} training and {test.Count:N0} test images as {train.ImageShape.Channels}×{train.ImageShape.Height}×{train.ImageShape.Width}");

// ## 2. The backbone, and a new head
using var model = (ResNet)ModelZoo.Create("resnet18-imagenet", new ModelOptions { InputChannels = 3, NumClasses = 1000, Seed = seed });
if (weights is not null)
{
    var loaded = FineTuning.LoadTorchvisionResNet18(model, weights);
    Console.WriteLine($"Loaded torchvision weights from {weights}: {loaded}");
}
else
{
    Console.WriteLine("No --weights given: the backbone starts from random weights (same code path, lower accuracy).");
}
FineTuning.ReplaceHead(model, numClasses: 10);
FineTuning.FreezeBackbone(model);
long trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
long total = model.parameters().Sum(p => p.numel());
Console.WriteLine($"Head replaced (10 classes); backbone frozen: {trainable:N0} of {total:N0} parameters train.");

// ## 3. Stage 1: train the head only
var history = Fit(model, epochs: quick ? 1 : 3, learningRate: 3e-3);
var headOnly = Evaluator.Evaluate(model, test, new EvaluatorOptions { Normalization = history.Normalization, BatchSize = 128 });
Console.WriteLine($"Head only: test accuracy {headOnly.Accuracy:P2}");

// ## 4. Stage 2: unfreeze and fine-tune everything gently
FineTuning.Unfreeze(model);
var fine = Fit(model, epochs: 1, learningRate: 3e-4);
var all = Evaluator.Evaluate(model, test, new EvaluatorOptions { Normalization = fine.Normalization, BatchSize = 128 });
Console.WriteLine($"Fine-tuned: test accuracy {all.Accuracy:P2}  (total {clock.Elapsed.TotalSeconds:0}s)");
Console.WriteLine(all.ToReport());

(TrainingHistory History, ChannelStatistics? Normalization) Fit(ImageClassifier network, int epochs, double learningRate)
{
    using var trainer = new Trainer(network, new TrainerOptions
    {
        Epochs = epochs,
        BatchSize = 32,
        Seed = seed,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = learningRate, WeightDecay = 1e-4 },
        Scheduler = new SchedulerOptions { Kind = SchedulerKind.Cosine, Interval = SchedulerInterval.Batch },
        EvaluationBatchSize = 128,
    });
    trainer.EpochEnd += (_, e) => Console.WriteLine($"  epoch {e.Metrics.Epoch}/{epochs}: loss {e.Metrics.TrainLoss:0.000}, train accuracy {e.Metrics.TrainAccuracy:P1} ({e.Metrics.Elapsed.TotalSeconds:0}s)");
    var h = trainer.Fit(train);
    return (h, trainer.Normalization);
}

static InMemoryDataset ToImageNetShape(InMemoryDataset dataset, int side)
{
    using (dataset)
    {
        Tensor rgb, labels;
        using (var scope = NewDisposeScope())
        {
            var resized = nn.functional.interpolate(dataset.Images.to_type(ScalarType.Float32), new long[] { side, side },
                mode: InterpolationMode.Bilinear, align_corners: false);
            rgb = scope.MoveToOuter(resized.expand(-1, 3, -1, -1).round().clamp(0, 255).to_type(ScalarType.Byte).contiguous());
            labels = scope.MoveToOuter(dataset.Labels.clone());
        }
        return new InMemoryDataset(rgb, labels, dataset.ClassNames, dataset.Name + "-imagenet-style");
    }
}
