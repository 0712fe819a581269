// The fashionvision command-line tool. All the work is in CliApp, so tests run the same code in-process.
return FashionVision.Cli.CliApp.Run(args, Console.Out, Console.Error);
