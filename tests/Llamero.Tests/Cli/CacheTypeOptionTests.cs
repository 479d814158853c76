using System.Globalization;
using System.Text.RegularExpressions;
using Llamero.Evaluation;
using Llamero.Models;
using Llamero.Tests.Evaluation;
using Llamero.Tests.Support;

namespace Llamero.Tests.Cli;

/// <summary><c>-ctk/-ctv</c> on the commands that make sessions: perplexity with an F16 cache as llama.cpp computes it
/// with one, and the cache reported by run.</summary>
public sealed class CacheTypeOptionTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("llamero-ctk");

    [Fact]
    public void Perplexity_with_an_f16_cache_matches_llama_cpp_with_an_f16_cache()
    {
        var text = StoryText.Generate(200, seed: 21);
        var path = Path.Combine(_dir, "story.txt");
        File.WriteAllText(path, text);
        var tokens = OracleSession.Tokenize(TestPaths.Stories260K, text);
        double expected;
        using (var oracle = OracleSession.Load(TestPaths.Stories260K, 128, KvCacheOptions.F16))
            expected = Perplexity.Compute(oracle, tokens, tokens[0], new PerplexityOptions(128)).Value;

        var (exit, output, error) = CliRunner.Run("perplexity", "-m", TestPaths.Stories260K, "-f", path, "-c", "128", "-ctk", "f16", "-ctv", "f16");
        Assert.True(exit == 0, error);
        var ours = double.Parse(Regex.Match(output, @"Final estimate: PPL = ([0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(ours - expected) / expected < 0.001, $"Llamero PPL {ours}, llama.cpp {expected}");
    }

    [Theory]
    [InlineData("q8_0", "V cache type q8_0 stores blocks of 32 elements, which do not divide this model's head size 8; use f16 or f32.")]
    [InlineData("bf16", "KV cache type 'bf16' is a llama.cpp type Llamero does not store yet; valid: f32, f16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl")]
    [InlineData("f8", "unknown KV cache type 'f8'; valid: f32, f16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl")]
    public void An_unsupported_cache_type_is_a_one_line_error(string type, string message)
    {
        var path = Path.Combine(_dir, "story.txt");
        File.WriteAllText(path, StoryText.Generate(100));
        var (exit, output, error) = CliRunner.Run("perplexity", "-m", TestPaths.Stories260K, "-f", path, "-c", "64", "-ctv", type);
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal($"error: {message}", error.Trim());
    }

    [Fact]
    public void Run_reports_the_cache_types_and_their_memory()
    {
        var (exit, _, error) = CliRunner.Run("run", "-m", TestPaths.Stories260K, "-p", "Once upon a time", "-n", "8", "--temp", "0", "-c", "256",
            "-ctk", "f32", "-ctv", "f32");
        Assert.True(exit == 0, error);
        // stories260K: 5 layers x 256 positions x 32 (4 KV heads x 8) x (4 + 4) bytes = 320 KiB.
        Assert.Contains("KV cache: 256 positions, K f32, V f32, 0.31 MiB", error);
        // F16 is the default, as in llama.cpp: half the bytes.
        var f16 = CliRunner.Run("run", "-m", TestPaths.Stories260K, "-p", "Once upon a time", "-n", "8", "--temp", "0", "-c", "256");
        Assert.Contains("KV cache: 256 positions, K f16, V f16, 0.16 MiB", f16.Error);
    }

    [Fact]
    public void Eval_accepts_the_cache_types()
    {
        var path = Path.Combine(_dir, "mc.jsonl");
        File.WriteAllText(path, DatasetTests.Jsonl);
        var (exit, output, error) = CliRunner.Run("eval", "multiple-choice", "-m", TestPaths.Stories260K, "-f", path, "-ctk", "f16", "-ctv", "f16");
        Assert.True(exit == 0, error);
        Assert.Contains("Final (3 tasks): acc = ", output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
