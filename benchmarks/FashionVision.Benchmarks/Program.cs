using BenchmarkDotNet.Running;

// Run one suite with: dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- --filter '*Idx*' --job short
// Benchmarks run in-process: BenchmarkDotNet's generated per-job projects do not get the libLibTorchSharp.so patch that
// this project's build output has (see src/FashionVision/buildTransitive), and in-process runs measure the same code.
var arguments = args.Any(a => a.Equals("--inProcess", StringComparison.OrdinalIgnoreCase)) ? args : args.Append("--inProcess").ToArray();
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(arguments);
