using System.Globalization;
using Llamero.Tests.Support;

namespace Llamero.Tests.Cli;

/// <summary>llama.cpp's <c>-nr/--no-repack</c> on the commands that load a model, and the load line saying what was repacked.</summary>
public sealed class NoRepackOptionTests
{
    private static readonly string Threads = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);

    private static string[] Run(params string[] extra) =>
        ["run", "-m", TestPaths.Stories260K, "-p", "Once upon a time", "-n", "12", "--temp", "0", "-c", "128", .. extra];

    [Theory]
    [InlineData("-nr")]
    [InlineData("--no-repack")]
    public void Run_without_repacking_says_so_and_generates_the_same_text(string flag)
    {
        var plain = CliRunner.Run(Run(flag));
        Assert.True(plain.Exit == 0, plain.Error);
        Assert.Contains("repack: off (--no-repack), all matrices multiplied in the file's layout", plain.Error);

        var repacked = CliRunner.Run(Run());
        Assert.True(repacked.Exit == 0, repacked.Error);
        Assert.Contains("repack: ", repacked.Error);
        Assert.DoesNotContain("repack: off", repacked.Error);
        Assert.Equal(repacked.Output, plain.Output);
    }

    [Fact]
    public void Chat_perplexity_eval_serve_and_bench_accept_the_flag()
    {
        foreach (var command in new[] { "chat", "perplexity", "eval", "serve", "bench" })
        {
            var help = CliRunner.Run(command, "--help");
            Assert.True(help.Exit == 0, $"{command}: {help.Error}");
            Assert.Contains("-nr, --no-repack", help.Output);
        }
    }

    [Fact]
    public void Bench_reports_the_load_and_what_it_repacked_on_stderr_keeping_the_table_on_stdout()
    {
        var (exit, output, error) = CliRunner.Run("bench", "-m", TestPaths.Stories260K, "-p", "8", "-n", "4", "-r", "1", "-t", Threads, "-nr");
        Assert.True(exit == 0, error);
        Assert.Matches(@"load: .*stories260K\.gguf in \d+ ms", error);
        Assert.Contains("repack: off (--no-repack)", error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("| model | size | params | backend | threads | test | t/s |", lines[0]);
        Assert.Equal(4, lines.Length);
    }
}
