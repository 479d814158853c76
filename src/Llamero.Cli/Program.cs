using System.CommandLine;
using Llamero.Cli.Commands;

namespace Llamero.Cli;

/// <summary>Entry point of the <c>llamero</c> tool: one file per command under Commands/.</summary>
public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

    /// <summary>The root command with every sub-command registered (tests invoke it in-process).</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Llamero: run GGUF language models on the CPU, in pure C#.");
        foreach (var command in CommandList.All())
            root.Subcommands.Add(command);
        return root;
    }
}
