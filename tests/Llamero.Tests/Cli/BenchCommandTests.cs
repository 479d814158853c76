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

    [Fact]
    public void Depth_runs_each_test_after_that_many_cached_tokens_in_the_cache_types_asked_for()
    {
        var (exit, output, error) = CliRunner.Run("bench", "-m", TestPaths.Stories260K, "-p", "8", "-n", "4", "-d", "0,40", "-r", "1", "-t", Threads,
            "-ctk", "f32", "-ctv", "f16");
        Assert.True(exit == 0, error);
        Assert.Contains("KV cache: K f32, V f16", error);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2).Select(l => l.Split('|', StringSplitOptions.TrimEntries)[6]);
        Assert.Equal(["pp8", "tg4", "pp8 @ d40", "tg4 @ d40"], rows);
    }

    [Theory]
    [InlineData("-d", "-1")]
    [InlineData("-ctk", "q4_0")]
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
