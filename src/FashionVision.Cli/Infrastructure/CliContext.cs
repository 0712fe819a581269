using Spectre.Console;

namespace FashionVision.Cli.Infrastructure;

/// <summary>What every command writes to: plain writers for results and errors, and a Spectre console for tables and progress.</summary>
internal sealed class CliContext
{
    public CliContext(TextWriter output, TextWriter error, CancellationToken cancellationToken)
        : this(CreateConsole(output), output, error, cancellationToken)
    {
    }

    /// <summary>A context over a given console (tests pass a recording one, interactive or not).</summary>
    public CliContext(IAnsiConsole console, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        Console = console;
        Output = output;
        Error = error;
        CancellationToken = cancellationToken;
    }

    private static IAnsiConsole CreateConsole(TextWriter output)
    {
        bool terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
            console.Profile.Width = 160;
        return console;
    }

    /// <summary>Where results go.</summary>
    public TextWriter Output { get; }

    /// <summary>Where errors and warnings go.</summary>
    public TextWriter Error { get; }

    /// <summary>Tables, rules and progress bars (plain text when the output is not a terminal).</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Set when the user presses Ctrl+C or the host cancels.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// When the command began: time budgets (<c>train --time-budget</c>, the speedrun recipes) count from here. The tool
    /// sets it to the process's start, so start-up counts; an in-process caller gets the moment it made the context.
    /// </summary>
    public DateTimeOffset StartedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>Whether progress bars can redraw in place.</summary>
    public bool IsInteractive => Console.Profile.Capabilities.Interactive;
}
