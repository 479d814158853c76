using System.CommandLine;

namespace Llamero.Cli.Commands;

/// <summary>Every sub-command of <c>llamero</c>, one line each, in the order `--help` lists them.</summary>
internal static class CommandList
{
    public static IEnumerable<Command> All()
    {
        yield return VersionCommand.Create();
        yield return ServeCommand.Create();
        yield return InfoCommand.Create();
        yield return JoinCommand.Create();
        yield return SplitCommand.Create();
        yield return MergeCommand.Create();
        yield return DownloadCommand.Create();
        yield return BenchCommand.Create();
        yield return RunCommand.Create();
        yield return ChatCommand.Create();
        yield return PerplexityCommand.Create();
        yield return EvalCommand.Create();
        yield return QuantizeCommand.Create();
    }
}
