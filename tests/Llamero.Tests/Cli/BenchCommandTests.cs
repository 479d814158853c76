using System.Globalization;
using Llamero.Tests.Support;

namespace Llamero.Tests.Cli;

/// <summary><c>llamero bench</c>: llama-bench's table on stories260K (speed itself is measured in benchmarks/, not here).</summary>
public class BenchCommandTests
{
    // The kernels' thread count is process-wide: keep the default so tests running beside this one are undisturbed.
    private static readonly string Threads = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void Prints_one_row_per_test_with_llama_bench_columns()
    {
        var (exit, output, error) = CliRunner.Run("bench", "-m", TestPaths.Stories260K, "-p", "16,32", "-n", "8", "-r", "2", "-t", Threads);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("| model | size | params | backend | threads | test | t/s |", lines[0]);
        var rows = lines.Skip(2).Select(l => l.Split('|', StringSplitOptions.TrimEntries)).ToArray();
        Assert.Equal(["pp16", "pp32", "tg8"], rows.Select(r => r[6]));
        foreach (var row in rows)
        {
            Assert.Equal("llama stories260K", row[1]);
            Assert.Equal(Threads, row[5]);
            var mean = double.Parse(row[7].Split('±')[0], CultureInfo.InvariantCulture);
            Assert.True(mean > 0, row[7]);
        }
    }

    [Theory]
    [InlineData("-p", "12x")]
    [InlineData("-r", "0")]
    [InlineData("-t", "0")]
    public void Bad_arguments_are_one_line_errors(string option, string value)
    {
        var (exit, _, error) = CliRunner.Run("bench", "-m", TestPaths.Stories260K, option, value);
        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", error);
    }
}
