using BenchmarkDotNet.Running;
using FashionVision.Benchmarks.Speedrun;

// The speedrun harness (time-budgeted recipes, several seeds, whole-process timing) and its per-run child process:
//   dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- speedrun [--seeds 3] [--recipes a,b] [--output FILE]
if (args.Length > 0 && args[0] == "speedrun")
    return SpeedrunHarness.Run(args[1..]);
if (args.Length > 0 && args[0] == "speedrun-child")
    return SpeedrunChild.Run(args[1..]);

// Micro-benchmarks: dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- --filter '*Idx*' --job short
// Benchmarks run in-process: BenchmarkDotNet's generated per-job projects do not get the libLibTorchSharp.so patch that
// this project's build output has (see src/FashionVision/buildTransitive), and in-process runs measure the same code.
var arguments = args.Any(a => a.Equals("--inProcess", StringComparison.OrdinalIgnoreCase)) ? args : args.Append("--inProcess").ToArray();
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(arguments);
return 0;
