using System.CommandLine;
using FashionVision.Cli.Infrastructure;
using FashionVision.Models;
using Spectre.Console;

namespace FashionVision.Cli.Commands;

/// <summary><c>fashionvision models [name]</c>: the model zoo with parameter counts, FLOPs and input sizes.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string?>("name")
        {
            Description = "Describe one model in full instead of listing them all",
            Arity = ArgumentArity.ZeroOrOne,
        };
        name.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string?>();
            if (value is not null)
                CommonOptions.RequireKnown(result, value, ModelZoo.Names, "model");
        });
        var command = new Command("models", "List the model zoo: parameters, FLOPs per image, expected input.") { name };
        command.SetAction(parse =>
        {
            string? one = parse.GetValue(name);
            if (one is not null)
            {
                var info = ModelZoo.Describe(one);
                var grid = new Grid().AddColumn().AddColumn();
                grid.AddRow("name", Markup.Escape(info.Name));
                grid.AddRow("architecture", Markup.Escape(info.Summary));
                grid.AddRow("input", Markup.Escape(info.InputShape));
                grid.AddRow("classes", info.NumClasses.ToString("N0"));
                grid.AddRow("parameters", info.ParameterCount.ToString("N0"));
                grid.AddRow("FLOPs per image", $"{info.FlopsPerImage:N0} ({Mega(info.FlopsPerImage)})");
                grid.AddRow("reference", Markup.Escape(info.ReferenceAccuracy));
                context.Console.Write(grid);
                return CliApp.Success;
            }

            var table = new Table()
                .AddColumn("model").AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("FLOPs/image").RightAligned())
                .AddColumn("input").AddColumn("architecture");
            foreach (var model in ModelZoo.Names)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                var info = ModelZoo.Describe(model);
                table.AddRow(Markup.Escape(info.Name), info.ParameterCount.ToString("N0"), Mega(info.FlopsPerImage),
                    Markup.Escape(info.InputShape), Markup.Escape(info.Summary));
            }
            context.Console.Write(table);
            return CliApp.Success;
        });
        return command;
    }

    private static string Mega(long flops) => flops >= 1_000_000_000 ? $"{flops / 1e9:0.00} G" : $"{flops / 1e6:0.0} M";
}
