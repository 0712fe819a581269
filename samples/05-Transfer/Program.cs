// 05 · Transfer learning with ResNet-18 and ImageNet-style input, with no hand resizing.
//
// Run:   dotnet run -c Release --project samples/05-Transfer [-- --quick] [--weights resnet18.safetensors]
// Measured: the version of this sample that resized the data by hand (2,000 training and 1,000 test images at
// 3×112×112, no --weights, 2026-11-23) reached 56.20% with the head only and 77.10% after one epoch of fine-tuning, in
// 117 s. This version moves the resizing into the model (ImageNet mean/std instead of the data's own statistics) and has
// not been re-timed: the machine was saturated by other builds (2026-11-30). docs/recipes.md ("Transfer at 224 px") has
// the same pipeline measured from the command line. `--quick` (512/256 images at 64×64, one epoch each stage) is the
// smoke run.
//
// Read it top to bottom like a notebook. The zoo's `resnet18-imagenet` is torchvision's resnet18, parameter for
// parameter: 7×7/2 stem, max-pool, 3-channel 224×224 input. That is what lets it load ImageNet weights exported from
// PyTorch (`safetensors.torch.save_file(torchvision.models.resnet18(weights="DEFAULT").state_dict(), "resnet18.safetensors")`).
// Fashion-MNIST is 1×28×28: instead of resizing the data by hand, the model gets an input preprocessing
// (`ModelOptions.Preprocessing = InputPreprocessing.ImageNet(side)`: resize, grey → RGB, ImageNet mean/std) that runs
// inside its forward pass. The Trainer, the Evaluator, the Predictor, Grad-CAM and the ONNX export therefore all see the
// same thing, and the checkpoint carries it.
// The fine-tuning recipe: load the backbone, a fresh 10-class head, freeze the backbone, train only the head, then
// unfreeze everything at a low learning rate.
// Without --weights the backbone starts from random weights: the code path is the same, the accuracy is not what
// pretrained features give. On 2 CPU cores a 224×224 ResNet-18 manages only a few dozen images per second, so the
// default is a small subset at 112×112; on a GPU use 224 and the whole set (docs/recipes.md).
using System.Diagnostics;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Training;

bool quick = args.Contains("--quick");
int weightsAt = Array.IndexOf(args, "--weights");
string? weights = weightsAt >= 0 && weightsAt + 1 < args.Length ? args[weightsAt + 1] : null;
int side = quick ? 64 : 112;
int trainImages = quick ? 512 : 2_000;
int testImages = quick ? 256 : 1_000;
const long seed = 5;
var clock = Stopwatch.StartNew();

// ## 1. The data, as it is: 1×28×28 grey images
var source = new FashionMnistSource();
using var fullTrain = source.Load(DatasetSplit.Train);
using var fullTest = source.Load(DatasetSplit.Test);
using var train = fullTrain.Take(trainImages);
using var test = fullTest.Take(testImages);
Console.WriteLine($"{train.Count:N0} training and {test.Count:N0} test images of {train.ImageShape.Channels}×{train.ImageShape.Height}×{train.ImageShape.Width}");

// ## 2. The backbone with its own preprocessing, and a new head
// ModelZoo.Create wraps the network in a PreprocessedClassifier: it takes N×1×28×28 in [0, 1] and hands the ResNet
// N×3×side×side normalised with ImageNet's mean and std.
var options = new ModelOptions { InputChannels = 1, NumClasses = 10, Seed = seed, Preprocessing = InputPreprocessing.ImageNet(side) };
using var model = (PreprocessedClassifier)ModelZoo.Create("resnet18-imagenet", options);
Console.WriteLine($"Preprocessing inside the model: {model.Preprocessing}");
if (weights is not null)
{
    // torchvision's weights go into the bare network; its 1000-class fc is skipped, the 10-class head stays fresh.
    var loaded = FineTuning.LoadTorchvisionResNet18((ResNet)model.Inner, weights);
    Console.WriteLine($"Loaded torchvision weights from {weights}: {loaded}");
}
else
{
    Console.WriteLine("No --weights given: the backbone starts from random weights (same code path, lower accuracy).");
}
FineTuning.FreezeBackbone(model);
long trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
long total = model.parameters().Sum(p => p.numel());
Console.WriteLine($"Backbone frozen: {trainable:N0} of {total:N0} parameters train.");

// ## 3. Stage 1: train the head only
// The model normalises its own input, so the Trainer hands it [0, 1] pixels and the Evaluator needs no Normalization.
Fit(epochs: quick ? 1 : 3, learningRate: 3e-3);
var headOnly = Evaluator.Evaluate(model, test, new EvaluatorOptions { BatchSize = 128 });
Console.WriteLine($"Head only: test accuracy {headOnly.Accuracy:P2}");

// ## 4. Stage 2: unfreeze and fine-tune everything gently
FineTuning.Unfreeze(model);
Fit(epochs: 1, learningRate: 3e-4);
var all = Evaluator.Evaluate(model, test, new EvaluatorOptions { BatchSize = 128 });
Console.WriteLine($"Fine-tuned: test accuracy {all.Accuracy:P2}  (total {clock.Elapsed.TotalSeconds:0}s)");
Console.WriteLine(all.ToReport());
Console.WriteLine(all.ConfusionTable(FashionMnistSource.UpperBodyClasses));

void Fit(int epochs, double learningRate)
{
    using var trainer = new Trainer(model, new TrainerOptions
    {
        Epochs = epochs,
        BatchSize = 32,
        Seed = seed,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = learningRate, WeightDecay = 1e-4 },
        Scheduler = new SchedulerOptions { Kind = SchedulerKind.Cosine, Interval = SchedulerInterval.Batch },
        EvaluationBatchSize = 128,
    }.WithZooModel("resnet18-imagenet", options));
    trainer.EpochEnd += (_, e) => Console.WriteLine($"  epoch {e.Metrics.Epoch}/{epochs}: loss {e.Metrics.TrainLoss:0.000}, train accuracy {e.Metrics.TrainAccuracy:P1} ({e.Metrics.Elapsed.TotalSeconds:0}s)");
    trainer.Fit(train);
}
