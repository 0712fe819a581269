// The speedrun search harness: one training run per invocation, configured by key=value arguments, ending in one RESULT
// line (test accuracy, optional test-time views, times). docs/recipes.md ("Speedruns: the search") lists every variant
// tried with the arguments that reproduce it, e.g.
//
//   dotnet run -c Release --project benchmarks/FashionVision.SpeedSearch -- bf16=1 whiten=2 epochs=100 vbudget=54 vrate=2350 pct=0.15
//
// Keys (defaults in brackets):
//   data=fashion|mnist [fashion]   seed=N [0]   threads=N [2]   val=F (validate on a stratified share instead of test)
//   model=fast|ZOO-NAME [fast]     width=N [24]   drop=F [0.1]   layout=TOKENS (LayoutNet)   dirac=F (Dirac init of the residual convs)
//   whiten=1|2 (whitened first conv; 2 = frozen)   eps=F [5e-4]   bf16=0|1|auto [0] (float32, bfloat16 convolutions, or what Auto picks here)
//   epochs=N [2]   bs=N [128]   opt=adamw|adam|sgd [adamw]   lr=F [4e-3]   wd=F [0.05]   mom=F [0.9]   nesterov=0|1 [1]
//   sched=onecycle|cosine [onecycle]   pct=F [0.25]   div=F [25]   fdiv=F [1e4]   warmup=N [0]   ls=F [0.1]   ema=F
//   aug=none|crop|flip|flipcrop|PRESET [none]   pad=N [2]
//   tta=SPEC (TestTimeAugmentation.Parse: flip, shift1, flip,shift1) evaluated beside the plain model
//   budget=S (a real wall-clock budget from process start)
//   vbudget=S vrate=R (a virtual clock: every batch costs batch/R seconds, as on the idle machine, whatever the load)
//   veval=R [3·vrate] (evaluated images per second on the idle machine: what the budget's evaluation probe is charged)
//   nviews=N [1] (the test views the budget keeps time for)   bench=1 (training throughput only)
using System.Diagnostics;
using System.Globalization;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.SpeedSearch;
using FashionVision.Training;
using FashionVision.Transforms;
using TorchSharp;
using static TorchSharp.torch;

var wall = Stopwatch.StartNew();
var arguments = args.Select(x => x.Split('=', 2)).ToDictionary(x => x[0], x => x.Length > 1 ? x[1] : "1");
string Text(string key, string fallback) => arguments.TryGetValue(key, out var v) ? v : fallback;
double Number(string key, double fallback) => arguments.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
int Integer(string key, int fallback) => (int)Number(key, fallback);
bool Has(string key) => arguments.ContainsKey(key);

torch.set_num_threads(Integer("threads", 2));
long seed = Integer("seed", 0);
bool digits = Text("data", "fashion") == "mnist";
IDatasetSource source = digits ? new MnistSource() : new FashionMnistSource();
using var trainAll = source.Load(DatasetSplit.Train);
using var testAll = source.Load(DatasetSplit.Test);
InMemoryDataset train = trainAll, evaluationSet = testAll;
InMemoryDataset? validation = null;
if (Has("val"))
    (train, validation) = trainAll.SplitStratified(Number("val", 0.1), seed: 123);
evaluationSet = validation ?? testAll;

// The run, as the library's one run path takes it: a spec, plus a model factory for the layouts the zoo does not have.
string modelName = Has("layout") ? ModelZoo.FastCnnName : Text("model", "fast") is "fast" ? ModelZoo.FastCnnName : Text("model", "fast");
var precision = Text("bf16", "0") switch { "1" => ComputePrecision.BFloat16, "auto" => ComputePrecision.Auto, _ => ComputePrecision.Float32 };
var tta = Has("tta") ? TestTimeAugmentation.Parse(Text("tta", "flip")) : null;
var spec = new RunSpec
{
    Data = new DataSpec { Dataset = digits ? "mnist" : "fashion-mnist", ValidationSplit = 0 },
    Model = new ModelSpec
    {
        Name = modelName,
        // fast: FastCnn's own width is 24 channels; width=N gives N channels (the zoo's multiplier is N/24).
        Width = Has("width") ? (Text("model", "fast") == "fast" ? Number("width", 24) / 24 : Number("width", 1)) : null,
        WhitenStem = Has("whiten"),
    },
    Training = new TrainingSpec
    {
        Epochs = Integer("epochs", 2),
        BatchSize = Integer("bs", 128),
        Seed = seed,
        Precision = precision,
        Optimizer = new OptimizerOptions
        {
            Kind = Text("opt", "adamw") switch { "sgd" => OptimizerKind.Sgd, "adam" => OptimizerKind.Adam, _ => OptimizerKind.AdamW },
            LearningRate = Number("lr", 4e-3),
            WeightDecay = Number("wd", 0.05),
            Momentum = Number("mom", 0.9),
            Nesterov = Text("nesterov", "1") == "1",
        },
        Scheduler = Text("sched", "onecycle") == "cosine"
            ? new SchedulerOptions { Kind = SchedulerKind.Cosine, Interval = SchedulerInterval.Batch, WarmupSteps = Integer("warmup", 0) }
            : new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch, PctStart = Number("pct", 0.25), DivFactor = Number("div", 25), FinalDivFactor = Number("fdiv", 1e4) },
        Loss = new LossOptions { LabelSmoothing = Number("ls", 0.1) },
        Augmentation = Text("aug", "none") switch
        {
            "crop" => $"crop{Integer("pad", 2)}",
            "flipcrop" => $"flip+crop{Integer("pad", 2)}",
            var preset => preset,
        },
        EmaDecay = Has("ema") ? Number("ema", 0.999) : null,
        TimeBudgetSeconds = Has("vbudget") ? Number("vbudget", 56) : Has("budget") ? Number("budget", 60) : null,
    },
    Evaluation = new EvaluationSpec { Tta = tta?.Describe() ?? "none", MistakeCount = 0 },
};
ImageClassifier CreateModel(RunSpec run, ModelOptions options)
{
    ImageClassifier model = Has("layout")
        ? new LayoutNet(Text("layout", ""), options.NumClasses, Number("drop", 0.1))
        : Text("model", "fast") == "fast"
            ? new FastCnn(options.InputChannels, options.NumClasses, Integer("width", 24), Number("drop", 0.1))
            : ModelZoo.Create(run.Model.Name, options);
    if (model is FastCnn && Has("dirac"))
        foreach (var (name, module) in model.named_modules())
            if (name is "res1.0" or "res2.0" && module is TorchSharp.Modules.Conv2d conv)
                ConvInitialization.Dirac(conv, Number("dirac", 0));
    return model;
}

if (Has("bench"))
{
    torch.manual_seed(seed);
    using var benchModel = CreateModel(spec, new ModelOptions { NumClasses = 10, Seed = seed });
    Benchmark(benchModel, precision == ComputePrecision.BFloat16 ? ComputePrecision.BFloat16 : ComputePrecision.Float32, Integer("bs", 128), args);
    return;
}

VirtualClock? virtualClock = Has("vbudget") ? new VirtualClock() : null;
var runOptions = new TrainingRunOptions
{
    CreateModel = (run, options) =>
    {
        torch.manual_seed(seed);
        var model = CreateModel(run, options);
        // The budget measures the evaluation's cost with forward passes in eval mode: on the virtual clock they cost what
        // they cost on the idle machine (veval images per second, by default three times the training rate).
        if (virtualClock is not null)
            model.register_forward_hook((m, _, output) =>
            {
                if (!m.training)
                    virtualClock.Advance(output.shape[0] / Number("veval", 3 * Number("vrate", 2500)));
                return output;
            });
        return model;
    },
    TimeProvider = virtualClock,
    BudgetStartedAt = virtualClock?.GetUtcNow(),
    Callbacks = _ => virtualClock is null ? [] : [new VirtualTicker(virtualClock, Number("vrate", 2500))],
};
using var run = TrainingRun.Execute(spec, train, evaluationSet, runOptions);
double trainSeconds = run.TrainingTime.TotalSeconds;
string viewed = "";
var plainAccuracy = run.Evaluation.Accuracy;
if (tta is not null)
{
    viewed = $" tta[{tta}] {run.Evaluation.Accuracy * 100:0.00}";
    plainAccuracy = Evaluator.Evaluate(run.Model, evaluationSet, new EvaluatorOptions { Normalization = run.Normalization, TopK = [1] }).Accuracy;
}
double cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
Console.WriteLine($"RESULT {string.Join(' ', args)} | {(validation is null ? "test" : "val")} {plainAccuracy * 100:0.00}{viewed} | " +
                  $"train {trainSeconds:0.0}s wall {wall.Elapsed.TotalSeconds:0.0}s cpu {cpu:0}s | {run.ImagesTrained / trainSeconds:0} img/s steps {run.ImagesTrained / spec.Training.BatchSize} epochs {run.History.Epochs.Count} | {run.Precision}");
validation?.Dispose();
if (!ReferenceEquals(train, trainAll))
    train.Dispose();

// Training throughput of the configured network on random batches: the best of three 10-step rounds.
static void Benchmark(ImageClassifier model, ComputePrecision precision, int batchSize, string[] args)
{
    model.Precision = precision;
    model.train();
    var optimizer = torch.optim.SGD(model.parameters(), 0.01, 0.9);
    using var x = randn(batchSize, 1, 28, 28);
    using var y = randint(0, 10, batchSize, dtype: ScalarType.Int64);
    void Step()
    {
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(model.call(x), y);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }
    for (int i = 0; i < 5; i++)
        Step();
    double best = double.MaxValue;
    for (int round = 0; round < 3; round++)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 10; i++)
            Step();
        best = Math.Min(best, clock.Elapsed.TotalSeconds / 10);
    }
    long flops = FlopCounter.CountFlops(model, 1, 28, 28);
    Console.WriteLine($"BENCH {string.Join(' ', args)} | {batchSize / best:0} img/s | {flops / 1e6:0.0} MFLOP fwd | {3 * flops * batchSize / best / 1e9:0} GFLOP/s | {model.parameters().Sum(p => p.numel()):N0} params");
}

/// <summary>A clock that only moves when told to: the virtual-budget runs advance it by each batch's idle-machine cost.</summary>
internal sealed class VirtualClock : TimeProvider
{
    private long _ticks;

    public void Advance(double seconds) => _ticks += (long)(seconds * TimeSpan.TicksPerSecond);

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(_ticks);

    public override long GetTimestamp() => _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
}

/// <summary>Advances the virtual clock by one batch at the idle machine's rate (images per second) before every batch.</summary>
internal sealed class VirtualTicker(VirtualClock clock, double imagesPerSecond) : TrainerCallback
{
    public override void OnBatchStart(Trainer trainer, int epoch, int batch) => clock.Advance(trainer.Options.BatchSize / imagesPerSecond);
}
