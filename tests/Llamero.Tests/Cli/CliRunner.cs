using System.CommandLine;
using Llamero.Cli;

namespace Llamero.Tests.Cli;

/// <summary>Runs <c>llamero</c> in-process with captured output (and, for chat, standard input).</summary>
internal static class CliRunner
{
    private static readonly object ConsoleInput = new();

    public static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = Program.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Runs with <paramref name="input"/> as standard input (serialised: Console.In is process-wide).</summary>
    public static (int Exit, string Output, string Error) RunWithInput(string input, params string[] args)
    {
        lock (ConsoleInput)
        {
            var original = Console.In;
            Console.SetIn(new StringReader(input));
            try
            {
                return Run(args);
            }
            finally
            {
                Console.SetIn(original);
            }
        }
    }
}
