using FashionVision.Models;
using FashionVision.TorchVision.Models;

namespace FashionVision.TorchVision;

/// <summary>
/// Puts torchvision's classification networks into the <see cref="ModelZoo"/> for transfer learning: <c>resnet50</c>,
/// <c>tv-resnet18</c> (torchvision's ResNet-18 beside the zoo's own), <c>mobilenet-v3-small</c>, <c>mobilenet-v3-large</c>
/// (built by the TorchVision package), and <c>efficientnet-b0</c>, <c>shufflenet-v2</c>, <c>densenet-121</c> (torchvision's
/// architectures, built here from TorchVision's ops because TorchVision 0.107 does not ship those builders).
/// </summary>
/// <remarks>
/// <para>Registration is an explicit call, <see cref="Register"/>, made once at start-up (the CLI does it before parsing its
/// arguments). It is not a module initializer because .NET loads an assembly only when one of its types is first used: an
/// app that references this package but has not touched it yet would find the zoo without these models, depending on what
/// ran before. A call in <c>Main</c> is visible, happens at a known time, and is safe to repeat.</para>
/// <para>Every model is registered as torchvision defines it (3×224×224 RGB, 1000 classes by default, torchvision's
/// state-dict names, so PyTorch weights load with <see cref="Weights.PyTorchWeights.Load"/>) with
/// <see cref="InputPreprocessing.ImageNet"/> as its preprocessing for 28×28 grey images: grey → RGB, ImageNet mean/std,
/// resized to 224 (or to what <c>--input-size</c> asks). The head is replaced for another class count
/// (<see cref="ModelOptions.NumClasses"/>, <see cref="ImageClassifier.ResetClassifier"/>). <see cref="ModelOptions.DropRate"/>
/// sets the head's dropout; <see cref="ModelOptions.Width"/>, <see cref="ModelOptions.Attention"/> and
/// <see cref="ModelOptions.ChannelWidths"/> are refused (the widths are torchvision's).</para>
/// </remarks>
/// <example>
/// <code>
/// TorchVisionModels.Register();
/// var options = ModelZoo.DefaultOptions("efficientnet-b0") with { InputChannels = 1, NumClasses = 10, Preprocessing = InputPreprocessing.ImageNet(224) };
/// using var model = ModelZoo.Create("efficientnet-b0", options);   // takes N×1×28×28 in [0, 1]
/// </code>
/// </example>
public static class TorchVisionModels
{
    /// <summary>The zoo name of torchvision's ResNet-18 (the zoo's own is <c>resnet18</c> / <c>resnet18-imagenet</c>).</summary>
    public const string ResNet18Name = "tv-resnet18";

    /// <summary>The zoo name of torchvision's ResNet-50.</summary>
    public const string ResNet50Name = "resnet50";

    /// <summary>The zoo name of torchvision's MobileNetV3-Small.</summary>
    public const string MobileNetV3SmallName = "mobilenet-v3-small";

    /// <summary>The zoo name of torchvision's MobileNetV3-Large.</summary>
    public const string MobileNetV3LargeName = "mobilenet-v3-large";

    /// <summary>The zoo name of torchvision's EfficientNet-B0.</summary>
    public const string EfficientNetB0Name = "efficientnet-b0";

    /// <summary>The zoo name of torchvision's ShuffleNetV2 ×1.0.</summary>
    public const string ShuffleNetV2Name = "shufflenet-v2";

    /// <summary>The zoo name of torchvision's DenseNet-121.</summary>
    public const string DenseNet121Name = "densenet-121";

    private const string Docs = "torchvision model documentation";
    private static readonly object Gate = new();
    private static bool _registered;

    /// <summary>The zoo names this package registers, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [ResNet18Name, ResNet50Name, MobileNetV3SmallName, MobileNetV3LargeName, EfficientNetB0Name, ShuffleNetV2Name, DenseNet121Name];

    /// <summary>
    /// Registers the models in the <see cref="ModelZoo"/> and their ONNX converters in
    /// <see cref="FashionVision.Onnx.OnnxConverterRegistry.Default"/>. Idempotent and thread-safe: later calls do nothing.
    /// </summary>
    /// <exception cref="ArgumentException">Another registration already took one of the names in <see cref="Names"/>.</exception>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered)
                return;
            Add(ResNet18Name, o => new TorchVisionResNet("resnet18", o.InputChannels, o.NumClasses, o.DropRate ?? 0.0),
                "torchvision's resnet18 (TorchVision package): 7×7/2 stem + max-pool, four stages of two BasicBlocks (64-512); the same network and names as the zoo's resnet18-imagenet",
                $"69.758% ImageNet top-1, 11,689,512 parameters ({Docs}, ResNet18_Weights.IMAGENET1K_V1)");
            Add(ResNet50Name, o => new TorchVisionResNet("resnet50", o.InputChannels, o.NumClasses, o.DropRate ?? 0.0),
                "torchvision's resnet50 (TorchVision package): 7×7/2 stem + max-pool, stages of 3-4-6-3 Bottlenecks (256-2048)",
                $"76.13% ImageNet top-1, 25,557,032 parameters ({Docs}, ResNet50_Weights.IMAGENET1K_V1)");
            Add(MobileNetV3SmallName, o => new TorchVisionMobileNetV3("mobilenet_v3_small", o.InputChannels, o.NumClasses, o.DropRate ?? 0.2),
                "torchvision's mobilenet_v3_small (TorchVision package): 11 inverted residual blocks with Hardswish and squeeze-excitation, 576 → 1024 → classes",
                $"67.668% ImageNet top-1, 2,542,856 parameters ({Docs}, MobileNet_V3_Small_Weights.IMAGENET1K_V1)");
            Add(MobileNetV3LargeName, o => new TorchVisionMobileNetV3("mobilenet_v3_large", o.InputChannels, o.NumClasses, o.DropRate ?? 0.2),
                "torchvision's mobilenet_v3_large (TorchVision package): 15 inverted residual blocks with Hardswish and squeeze-excitation, 960 → 1280 → classes",
                $"74.042% ImageNet top-1, 5,483,032 parameters ({Docs}, MobileNet_V3_Large_Weights.IMAGENET1K_V1)");
            Add(EfficientNetB0Name, o => new EfficientNet(o.InputChannels, o.NumClasses, o.DropRate ?? 0.2),
                "torchvision's efficientnet_b0 (built from TorchVision's ops): 3×3/2 stem, 16 MBConv blocks with SiLU, squeeze-excitation and stochastic depth, 1×1 to 1280",
                $"77.692% ImageNet top-1, 5,288,548 parameters ({Docs}, EfficientNet_B0_Weights.IMAGENET1K_V1)");
            Add(ShuffleNetV2Name, o => new ShuffleNetV2(o.InputChannels, o.NumClasses, o.DropRate ?? 0.0),
                "torchvision's shufflenet_v2_x1_0 (built here): 3×3/2 stem + max-pool, 4-8-4 shuffle units (116-232-464), 1×1 to 1024",
                $"69.362% ImageNet top-1, 2,278,604 parameters ({Docs}, ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1)");
            Add(DenseNet121Name, o => new DenseNet121(o.InputChannels, o.NumClasses, o.DropRate ?? 0.0),
                "torchvision's densenet121 (built here): 7×7/2 stem + max-pool, dense blocks of 6-12-24-16 bottleneck layers (growth 32) with transitions, 1024 features",
                $"74.434% ImageNet top-1, 7,978,856 parameters ({Docs}, DenseNet121_Weights.IMAGENET1K_V1)");
            Onnx.TorchVisionOnnxConverters.Register(FashionVision.Onnx.OnnxConverterRegistry.Default);
            _registered = true;
        }
    }

    private static void Add(string name, Func<ModelOptions, ImageClassifier> build, string summary, string reference) =>
        ModelZoo.Register(name, options =>
            {
                if (options.Width is not null)
                    throw new ArgumentException($"Model '{name}' has torchvision's fixed widths; ModelOptions.Width must be unset.", nameof(options));
                if (options.Attention != AttentionKind.None)
                    throw new ArgumentException($"Model '{name}' has torchvision's own blocks; ModelOptions.Attention must be None.", nameof(options));
                return build(options);
            },
            summary, reference, new ModelOptions { InputChannels = 3, NumClasses = 1000 }, 224, 224, InputPreprocessing.ImageNet(224));
}
