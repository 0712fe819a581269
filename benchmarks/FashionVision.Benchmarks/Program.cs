using BenchmarkDotNet.Running;

// Run one suite with: dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- --filter '*Idx*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
