// The fashionvision command-line tool. All the work is in CliApp, so tests run the same code in-process.
// Time budgets count from the process's start, so the runtime's start-up counts too.
var started = new DateTimeOffset(System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime(), TimeSpan.Zero);
return FashionVision.Cli.CliApp.Run(args, new FashionVision.Cli.Infrastructure.CliContext(Console.Out, Console.Error, CancellationToken.None) { StartedAt = started });
