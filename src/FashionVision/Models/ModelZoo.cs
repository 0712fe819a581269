using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using FashionVision.Models.Pruning;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The model registry: create any zoo model by name, list the names, describe a model's size and cost, and register your own.
/// </summary>
/// <example>
/// <code>
/// var model = ModelZoo.Create("resnet18", new ModelOptions { NumClasses = 10, Seed = 42 });
/// var info = ModelZoo.Describe("wrn-16-4");   // parameters, FLOPs per image, input 1×28×28
/// ModelZoo.Register("my-net", o => new MyNet(o.InputChannels, o.NumClasses), "my own network");
/// </code>
/// </example>
public static partial class ModelZoo
{
    /// <summary>The zoo name of <see cref="FastCnn"/>, the network of the measured recipes (<c>fast-cnn</c>).</summary>
    public const string FastCnnName = "fast-cnn";

    /// <summary>The zoo name of <see cref="FastResNet"/>, the network of the accuracy recipes (<c>fast-resnet</c>).</summary>
    public const string FastResNetName = "fast-resnet";

    private static readonly object Gate = new();
    private static readonly List<ModelRegistration> Registrations = new();
    private static readonly ConcurrentDictionary<(string, ModelOptions), ModelInfo> DescribeCache = new();

    // Every reference result names its source: a paper and its table or figure, a public benchmark table, or the command
    // that measured it here (docs/recipes.md). The Fashion-MNIST benchmark table collects submitted results the dataset's
    // authors did not re-run; its rows are quoted with their model, since the zoo's network is not always the same one.
    static ModelZoo()
    {
        const string fashionMnistTable = "github.com/zalandoresearch/fashion-mnist README, Benchmark table";
        const string wrnPaper = "Zagoruyko & Komodakis 2016, arXiv:1605.07146v4";
        Add("lenet5", o =>
            {
                RequireNoWidth(o, "lenet5");
                RequireNoAttention(o, "lenet5");
                return new LeNet5(o.InputChannels, o.NumClasses, o.DropRate ?? 0.0);
            },
            "LeNet-5 (LeCun et al. 1998), modern form: conv 6-16 5×5 with max-pooling, FC 120-84; 61,706 parameters",
            "99.05% MNIST test, 0.95% error (LeCun et al. 1998, Proc. IEEE 86(11), Sec. III-C and Fig. 9)");
        Add("small-cnn", o => new SmallCnn(o.InputChannels, o.NumClasses, o.DropRate ?? 0.5, o.Width ?? 1.0, o.Attention),
            "small CNN: conv 32-32, pool, conv 64-64, pool (3×3, BatchNorm), global average pool, FC 128, dropout",
            "89.73% Fashion-MNIST test after 3 epochs, seed 3 (docs/recipes.md, \"The samples, measured\")");
        Add("vgg-cnn", o => new VggCnn(o.InputChannels, o.NumClasses, o.DropRate ?? 0.5, o.Width ?? 1.0, o.Attention),
            "VGG-style CNN: three blocks of two 3×3 conv-BN-ReLU (64, 128, 256) with max-pooling, global average pool, dropout",
            $"93.5% Fashion-MNIST test for a VGG16 (26M parameters, no augmentation) ({fashionMnistTable})");
        Add("resnet18", o => new ResNet(new[] { 2, 2, 2, 2 }, ResNetStem.Native, o.InputChannels, o.NumClasses, o.Width ?? 1.0, o.Attention, o.DropRate ?? 0.0, o.ChannelWidths),
            "ResNet-18 for 28×28: 3×3 stem, no max-pool, four stages of two BasicBlocks (64-128-256-512)",
            $"94.9% Fashion-MNIST test for ResNet18 with flips, translation and rotation ({fashionMnistTable})");
        Add("resnet18-imagenet", o => new ResNet(new[] { 2, 2, 2, 2 }, ResNetStem.ImageNet, o.InputChannels, o.NumClasses, o.Width ?? 1.0, o.Attention, o.DropRate ?? 0.0, o.ChannelWidths),
            "ResNet-18 exactly as torchvision's resnet18: 7×7/2 stem + max-pool, 224×224 RGB; loads torchvision weights",
            "69.758% ImageNet top-1 (torchvision model documentation, ResNet18_Weights.IMAGENET1K_V1)",
            new ModelOptions { InputChannels = 3, NumClasses = 1000 }, 224, 224, InputPreprocessing.ImageNet(224));
        Add("se-resnet18", o => new ResNet(new[] { 2, 2, 2, 2 }, ResNetStem.Native, o.InputChannels, o.NumClasses, o.Width ?? 1.0,
                FixedAttention(o, AttentionKind.SqueezeExcitation, "se-resnet18"), o.DropRate ?? 0.0, o.ChannelWidths),
            "ResNet-18 for 28×28 with Squeeze-and-Excitation (r = 16) on every block's residual branch",
            "70.59% ImageNet top-1 for SE-ResNet-18 vs 70.40% for plain ResNet-18 (Woo et al. 2018, CBAM, ECCV, Table 4)");
        Add("cbam-resnet18", o => new ResNet(new[] { 2, 2, 2, 2 }, ResNetStem.Native, o.InputChannels, o.NumClasses, o.Width ?? 1.0,
                FixedAttention(o, AttentionKind.Cbam, "cbam-resnet18"), o.DropRate ?? 0.0, o.ChannelWidths),
            "ResNet-18 for 28×28 with CBAM (channel + spatial attention) on every block's residual branch",
            "70.73% ImageNet top-1 for CBAM-ResNet-18 vs 70.40% for plain ResNet-18 (Woo et al. 2018, CBAM, ECCV, Table 4)");
        Add("wrn-16-4", o => new WideResNet(16, o.Width ?? 4.0, o.InputChannels, o.NumClasses, o.DropRate ?? 0.0, o.Attention),
            "Wide ResNet WRN-16-4: 3 stages of 2 pre-activation blocks, widths 64-128-256",
            $"94.98% CIFAR-10 test, 5.02% error, no dropout, median of 5 runs ({wrnPaper}, table 'Effect of dropout in residual block'); 2.7M parameters");
        Add("wrn-28-10", o => new WideResNet(28, o.Width ?? 10.0, o.InputChannels, o.NumClasses, o.DropRate ?? 0.0, o.Attention),
            "Wide ResNet WRN-28-10: 3 stages of 4 pre-activation blocks, widths 160-320-640",
            $"96.00% CIFAR-10 test, 4.00% error, mean/std inputs, median of 5 runs ({wrnPaper}, table of test errors with flip/translation augmentation); " +
            $"95.9% Fashion-MNIST test with crops and flips ({fashionMnistTable}); 36.5M parameters");
        Add(FastCnnName, o =>
            {
                RequireNoAttention(o, FastCnnName);
                return new FastCnn(o.InputChannels, o.NumClasses, width: FastCnnWidth(o), dropRate: o.DropRate ?? 0.1, channelWidths: o.ChannelWidths);
            },
            "compute-efficient residual CNN of the fast recipes: conv w @28 pooled to 14, conv 2w + residual 2w @14, pool, conv 4w + residual 4w @7, avg+max pooling, linear (w = 24·Width)",
            "93.27% Fashion-MNIST test with the fashion-mnist-fast recipe, seed 0 (docs/recipes.md, \"Measured results\")");
        Add("mobilenet", o => new MobileNet(o.InputChannels, o.NumClasses, o.Width ?? 1.0, o.DropRate ?? 0.0, o.Attention),
            "MobileNet-style: 3×3 stem + seven depthwise-separable blocks (64 … 512), width multiplier α",
            $"70.6% ImageNet top-1 for 1.0 MobileNet-224 (Howard et al. 2017, arXiv:1704.04861, Table 8); 95.0% Fashion-MNIST test with horizontal flips ({fashionMnistTable})");
        Add(FastResNetName, o =>
            {
                RequireNoAttention(o, FastResNetName);
                return new FastResNet(o.InputChannels, o.NumClasses, width: Math.Max(1, (int)Math.Round(32 * (o.Width ?? 1.0))), blocks: 2, dropRate: o.DropRate ?? 0.1);
            },
            "FastCnn's layout made deeper for the accuracy recipes: conv w @28 pooled to 14, conv 2w + two residual blocks @14, pool, conv 4w + two residual blocks @7, avg+max pooling, linear (w = 32·Width)",
            "93.15% Fashion-MNIST test after 7 epochs with flips and crops, seed 0 (docs/recipes.md, \"The search\")");
        Add("densenet-bc-100", o =>
            {
                RequireNoAttention(o, "densenet-bc-100");
                return new DenseNet(100, Initialization.Scale(12, o.Width ?? 1.0), o.InputChannels, o.NumClasses, o.DropRate ?? 0.0);
            },
            "DenseNet-BC (L = 100, k = 12) for 28×28: 3×3 stem (2k), three dense blocks of 16 bottleneck layers (BN-ReLU-conv1×1 4k-BN-ReLU-conv3×3 k) at 28, 14 and 7 px, transitions halve channels and size (k = 12·Width)",
            "95.49% CIFAR-10 test with augmentation, 4.51% error (Huang et al. 2017, CVPR, arXiv:1608.06993, Table 2); 0.8M parameters");
        Add("small-vit", o =>
            {
                RequireNoAttention(o, "small-vit");
                return new VisionTransformer(patchSize: 4, dimension: 4 * Initialization.Scale(24, o.Width ?? 1.0), depth: 6, heads: 4, mlpRatio: 2,
                    inputChannels: o.InputChannels, numClasses: o.NumClasses, dropRate: o.DropRate ?? 0.0);
            },
            "small Vision Transformer: 4×4 patches (49 tokens), width 96 (96·Width), 6 pre-norm blocks with 4 heads and MLP 2×, learned positions, mean-token head",
            "72.2% ImageNet top-1 for DeiT-Ti, a 5.7M-parameter ViT trained from scratch on ImageNet-1k with strong augmentation (Touvron et al., ICML 2021, arXiv:2012.12877, Table 5)");
    }

    /// <summary>The registered names, in registration order (built-in models first).</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (Gate)
                return Registrations.Select(r => r.Name).ToArray();
        }
    }

    /// <summary>Whether <paramref name="name"/> is registered (case-insensitive).</summary>
    /// <param name="name">A model name.</param>
    public static bool Contains(string name)
    {
        lock (Gate)
            return name is not null && Registrations.Any(r => r.Name == name.Trim().ToLowerInvariant());
    }

    /// <summary>Gets the registration of <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">A registered model name.</param>
    /// <exception cref="ArgumentException">The name is not registered; the message lists the valid names.</exception>
    public static ModelRegistration GetRegistration(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Trim().ToLowerInvariant();
        lock (Gate)
        {
            var registration = Registrations.FirstOrDefault(r => r.Name == key);
            if (registration is null)
                throw new ArgumentException(
                    $"Unknown model '{name}'. Valid names: {string.Join(", ", Registrations.Select(r => r.Name))}.", nameof(name));
            return registration;
        }
    }

    /// <summary>The options a model is built with when <see cref="Create"/> gets none (start here and change what you need).</summary>
    /// <param name="name">A registered model name.</param>
    public static ModelOptions DefaultOptions(string name) => GetRegistration(name).DefaultOptions;

    /// <summary>Creates a freshly initialised model.</summary>
    /// <param name="name">A registered name (case-insensitive), e.g. <c>resnet18</c>.</param>
    /// <param name="options">The options; <see langword="null"/> uses the model's <see cref="DefaultOptions"/>.</param>
    /// <returns>The model in training mode on the CPU.</returns>
    /// <exception cref="ArgumentException">Unknown name (the message lists the valid names), or options the model cannot honour.</exception>
    /// <exception cref="InvalidOperationException">libtorch cannot be loaded; the message says why (<see cref="Native.TorchRuntime"/>).</exception>
    public static ImageClassifier Create(string name, ModelOptions? options = null)
    {
        Native.TorchRuntime.EnsureInitialized();
        var registration = GetRegistration(name);
        options = Validate(options ?? registration.DefaultOptions);
        if (options.Seed is long seed)
            manual_seed(seed);
        // With preprocessing, the factory builds the network for what the preprocessing produces, and a wrapper takes the raw input.
        var preprocessing = options.Preprocessing;
        var networkOptions = preprocessing is null
            ? options
            : options with { InputChannels = preprocessing.OutputChannels(options.InputChannels), Preprocessing = null };
        var model = registration.Factory(networkOptions)
            ?? throw new InvalidOperationException($"The factory of model '{registration.Name}' returned null.");
        if (model.InputChannels != networkOptions.InputChannels || model.NumClasses != networkOptions.NumClasses)
        {
            model.Dispose();
            throw new InvalidOperationException(
                $"The factory of model '{registration.Name}' ignored the options: asked for {networkOptions.InputChannels} input channels and {networkOptions.NumClasses} classes.");
        }
        if (options.ChannelWidths is { } widths && !(model is IChannelPrunable prunable && prunable.ChannelWidths.SequenceEqual(widths)))
        {
            model.Dispose();
            throw new ArgumentException(
                $"Model '{registration.Name}' does not take ModelOptions.ChannelWidths [{string.Join(", ", widths)}]; fast-cnn and the ResNets do (see IChannelPrunable).", nameof(options));
        }
        try
        {
            if ((options.BatchNormMomentum is not null || options.BatchNormEpsilon is not null) &&
                BatchNormSettings.Apply(model, options.BatchNormMomentum, options.BatchNormEpsilon) == 0)
                throw new ArgumentException(
                    $"Model '{registration.Name}' has no BatchNorm layers; ModelOptions.BatchNormMomentum and BatchNormEpsilon must be unset.", nameof(options));
            model.UseHead(options.Head, options.CosineScale);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return preprocessing is null ? model : new PreprocessedClassifier(model, preprocessing, options.InputChannels);
    }

    /// <summary>
    /// Describes a model: parameter count and FLOPs per image (computed by building it and running <see cref="FlopCounter"/>
    /// at the expected input size), the input shape, a summary and a reference accuracy. Results are cached per options.
    /// </summary>
    /// <param name="name">A registered name.</param>
    /// <param name="options">The options; <see langword="null"/> uses the model's <see cref="DefaultOptions"/>.</param>
    /// <exception cref="ArgumentException">Unknown name (the message lists the valid names), or invalid options.</exception>
    public static ModelInfo Describe(string name, ModelOptions? options = null)
    {
        var registration = GetRegistration(name);
        var resolved = Validate(options ?? registration.DefaultOptions) with { Seed = null };
        return DescribeCache.GetOrAdd((registration.Name, resolved), key =>
        {
            // Building draws initial weights from torch's global generator; put its state back so Describe has no side effect.
            using var rngState = get_rng_state();
            try
            {
                using var model = Create(key.Item1, key.Item2);
                long parameters = model.parameters().Sum(p => p.numel());
                long flops = FlopCounter.CountFlops(model, model.InputChannels, registration.InputHeight, registration.InputWidth);
                return new ModelInfo(registration.Name, registration.Summary, model.InputChannels, registration.InputHeight,
                    registration.InputWidth, model.NumClasses, parameters, flops, registration.ReferenceAccuracy);
            }
            finally
            {
                set_rng_state(rngState);
            }
        });
    }

    /// <summary>Describes every registered model with its default options, in the order of <see cref="Names"/> (the zoo's table).</summary>
    public static IReadOnlyList<ModelInfo> DescribeAll() => Names.Select(name => Describe(name)).ToList();

    /// <summary>Registers a model so that <see cref="Create"/>, <see cref="Describe"/> and <see cref="Names"/> know it.</summary>
    /// <param name="name">Lower-case, hyphenated name (letters, digits and single hyphens), not yet registered.</param>
    /// <param name="factory">Builds the model from the resolved options; it must honour InputChannels and NumClasses.</param>
    /// <param name="summary">A one-line description.</param>
    /// <param name="referenceAccuracy">A reference result with its source (paper and table, benchmark, or the command that measured it), if any.</param>
    /// <param name="defaultOptions">Options used when none are given (default: <c>new ModelOptions()</c>).</param>
    /// <param name="inputHeight">Height of the expected input (28).</param>
    /// <param name="inputWidth">Width of the expected input (28).</param>
    /// <param name="preprocessing">The preprocessing the model expects for 28×28 grey images (<see cref="ModelRegistration.Preprocessing"/>), if any.</param>
    /// <exception cref="ArgumentException">The name is malformed or already registered, or the input size is not positive.</exception>
    public static void Register(string name, Func<ModelOptions, ImageClassifier> factory, string summary,
        string referenceAccuracy = "", ModelOptions? defaultOptions = null, int inputHeight = 28, int inputWidth = 28,
        InputPreprocessing? preprocessing = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(summary);
        if (!NamePattern().IsMatch(name))
            throw new ArgumentException($"Model name '{name}' must be lower-case letters and digits separated by single hyphens.", nameof(name));
        if (inputHeight <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputHeight), inputHeight, "The input height must be positive.");
        if (inputWidth <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputWidth), inputWidth, "The input width must be positive.");
        preprocessing?.Validate(1);
        var registration = new ModelRegistration(name, factory, summary, Validate(defaultOptions ?? new ModelOptions()),
            inputHeight, inputWidth, referenceAccuracy ?? "") { Preprocessing = preprocessing };
        lock (Gate)
        {
            if (Registrations.Any(r => r.Name == name))
                throw new ArgumentException($"A model named '{name}' is already registered.", nameof(name));
            Registrations.Add(registration);
        }
    }

    private static void Add(string name, Func<ModelOptions, ImageClassifier> factory, string summary, string reference,
        ModelOptions? defaults = null, int height = 28, int width = 28, InputPreprocessing? preprocessing = null) =>
        Registrations.Add(new ModelRegistration(name, factory, summary, defaults ?? new ModelOptions(), height, width, reference)
        {
            Preprocessing = preprocessing,
        });

    private static ModelOptions Validate(ModelOptions options)
    {
        if (options.InputChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.InputChannels, "ModelOptions.InputChannels must be positive.");
        if (options.NumClasses <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.NumClasses, "ModelOptions.NumClasses must be positive.");
        if (options.DropRate is double p && !(p >= 0 && p < 1))
            throw new ArgumentOutOfRangeException(nameof(options), p, "ModelOptions.DropRate must be in [0, 1).");
        if (options.Width is double w && !(w > 0 && w <= 64))
            throw new ArgumentOutOfRangeException(nameof(options), w, "ModelOptions.Width must be in (0, 64].");
        if (!Enum.IsDefined(options.Attention))
            throw new ArgumentOutOfRangeException(nameof(options), options.Attention, "ModelOptions.Attention is not a defined value.");
        if (!Enum.IsDefined(options.Head))
            throw new ArgumentOutOfRangeException(nameof(options), options.Head, "ModelOptions.Head is not a defined value.");
        if (!(options.CosineScale > 0 && double.IsFinite(options.CosineScale)))
            throw new ArgumentOutOfRangeException(nameof(options), options.CosineScale, "ModelOptions.CosineScale must be finite and positive.");
        if (options.BatchNormMomentum is double m && !(m >= 0 && m <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), m, "ModelOptions.BatchNormMomentum must be in [0, 1].");
        if (options.BatchNormEpsilon is double eps && !(eps > 0 && double.IsFinite(eps)))
            throw new ArgumentOutOfRangeException(nameof(options), eps, "ModelOptions.BatchNormEpsilon must be finite and positive.");
        options.Preprocessing?.Validate(options.InputChannels);
        if (options.ChannelWidths is { } widths)
        {
            if (widths.Count == 0 || widths.Any(c => c < 1))
                throw new ArgumentOutOfRangeException(nameof(options), string.Join(", ", widths), "ModelOptions.ChannelWidths must be positive.");
            if (options.Width is not null)
                throw new ArgumentException("ModelOptions.Width and ChannelWidths exclude each other: give the widths one way.", nameof(options));
        }
        return options;
    }

    private static void RequireNoWidth(ModelOptions options, string model)
    {
        if (options.Width is double w && w != 1.0)
            throw new ArgumentException($"Model '{model}' has fixed widths; ModelOptions.Width must be unset or 1.", nameof(options));
    }

    // ModelOptions.Width multiplies FastCnn's base width.
    private static int FastCnnWidth(ModelOptions options) => Math.Max(1, (int)Math.Round(FastCnn.DefaultWidth * (options.Width ?? 1.0)));

    private static void RequireNoAttention(ModelOptions options, string model)
    {
        if (options.Attention != AttentionKind.None)
            throw new ArgumentException($"Model '{model}' does not support attention; ModelOptions.Attention must be None.", nameof(options));
    }

    private static AttentionKind FixedAttention(ModelOptions options, AttentionKind kind, string model)
    {
        if (options.Attention != AttentionKind.None && options.Attention != kind)
            throw new ArgumentException($"Model '{model}' always uses {kind}; ModelOptions.Attention must be None or {kind}.", nameof(options));
        return kind;
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex NamePattern();
}
