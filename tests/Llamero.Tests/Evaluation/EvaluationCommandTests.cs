using Llamero.Models;
using System.Globalization;
using System.Text.RegularExpressions;
using Llamero.Evaluation;
using Llamero.Tests.Support;

namespace Llamero.Tests.Evaluation;

/// <summary><c>llamero perplexity</c> and <c>llamero eval</c> on stories260K, against llama.cpp's numbers.</summary>
public sealed partial class EvaluationCommandTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("llamero-eval");

    private static (int Code, string Output, string Error) Run(params string[] args) => Gguf.CliRunner.Run(args);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [GeneratedRegex(@"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)")]
    private static partial Regex FinalEstimate();

    [Fact]
    public void Perplexity_matches_llama_cpp_within_a_tenth_of_a_percent()
    {
        var text = StoryText.Generate(260);
        var path = Write("story.txt", text);
        var tokens = OracleSession.Tokenize(TestPaths.Stories260K, text);
        var (ppl, uncertainty, chunks) = PerplexityTests.Reference(TestPaths.Stories260K, tokens, PerplexityTests.Context);

        var (code, output, error) = Run("perplexity", "-m", TestPaths.Stories260K, "-f", path, "-c", "128", "-b", "48");
        Assert.True(code == 0, error);
        var match = FinalEstimate().Match(output);
        Assert.True(match.Success, output);
        var ours = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var ourUncertainty = double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(ours - ppl) / ppl < 0.001, $"Llamero PPL {ours}, llama.cpp {ppl}");
        Assert.Equal(uncertainty, ourUncertainty, uncertainty * 0.01 + 1e-5);
        Assert.StartsWith("[1]", output);
        Assert.Contains($"[{chunks}]", output);
        Assert.DoesNotContain($"[{chunks + 1}]", output);
    }

    [Fact]
    public void Kl_divergence_of_llamero_against_llama_cpp_saved_logits_is_negligible()
    {
        var text = StoryText.Generate(120, seed: 9);
        var tokens = OracleSession.Tokenize(TestPaths.Stories260K, text);
        var basePath = Path.Combine(_dir, "llama-cpp.kld");
        using (var oracle = OracleSession.Load(TestPaths.Stories260K, 64))
        using (var writer = new LogitsFileWriter(basePath))
        {
            Perplexity.Compute(oracle, tokens, tokens[0], new PerplexityOptions(64), saveLogits: writer);
            writer.Commit();
        }

        var (code, output, error) = Run("perplexity", "-m", TestPaths.Stories260K, "--kl-divergence-base", basePath, "--kl-divergence");
        Assert.True(code == 0, error);
        Assert.Contains(KlDivergenceReport.Header, output);
        Assert.Contains("====== KL divergence statistics ======", output);
        Assert.Contains("Same top p: 100.000 ± 0.000 %", output);
        var kld = double.Parse(Regex.Match(output, @"Mean    KLD:\s+(-?[0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(kld) < 1e-4, $"mean KLD {kld}");
        var ratio = double.Parse(Regex.Match(output, @"Mean PPL\(Q\)/PPL\(base\)\s+:\s+([0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(1.0, ratio, 1e-3);
    }

    [Fact]
    public void A_saved_base_round_trips_through_the_cli()
    {
        var path = Write("story.txt", StoryText.Generate(100, seed: 4));
        var basePath = Path.Combine(_dir, "base.kld");
        // F32 caches: the base file keeps each log-probability to 16 bits, and this text has a top-1 near-tie that the
        // F16 cache's rounding tips over inside that margin.
        var save = Run("perplexity", "-m", TestPaths.Stories260K, "-f", path, "-c", "64", "--kl-divergence-base", basePath, "-ctk", "f32", "-ctv", "f32");
        Assert.True(save.Code == 0, save.Error);
        Assert.True(File.Exists(basePath));
        var compare = Run("perplexity", "-m", TestPaths.Stories260K, "--kl-divergence-base", basePath, "--kl-divergence", "-ctk", "f32", "-ctv", "f32");
        Assert.True(compare.Code == 0, compare.Error);
        Assert.Contains("Same top p: 100.000", compare.Output);
    }

    [Fact]
    public void A_text_shorter_than_two_chunks_fails_without_leaving_an_output_file()
    {
        var path = Write("short.txt", "Once upon a time, there was a little girl named Lily.");
        var basePath = Path.Combine(_dir, "never.kld");
        var (code, output, error) = Run("perplexity", "-m", TestPaths.Stories260K, "-f", path, "-c", "128", "--kl-divergence-base", basePath);
        Assert.Equal(1, code);
        Assert.StartsWith("error: you need at least 256 tokens to evaluate perplexity with a context of 128", error);
        Assert.Equal("", output);
        Assert.Empty(Directory.EnumerateFiles(_dir, "never*"));
    }

    [Theory]
    [InlineData("hellaswag", "hs.txt", 2)]
    [InlineData("winogrande", "wg.csv", 4)]
    [InlineData("multiple-choice", "mc.jsonl", 3)]
    public void Eval_prints_accuracy_progressively_and_a_final_score(string kind, string name, int tasks)
    {
        var content = kind switch { "hellaswag" => DatasetTests.Hellaswag, "winogrande" => DatasetTests.Winogrande, _ => DatasetTests.Jsonl };
        var (code, output, error) = Run("eval", kind, "-m", TestPaths.Stories260K, "-f", Write(name, content));
        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("task\tacc", lines[0]);
        for (var i = 1; i <= tasks; i++)
            Assert.Matches($@"^{i}\t[0-9.]+ ± [0-9.]+\t[0-9.]+ ± [0-9.]+$", lines[i]);
        Assert.StartsWith($"Final ({tasks} tasks): acc = ", lines[^1]);
        Assert.Contains("acc_norm = ", lines[^1]);
    }

    [Fact]
    public void Eval_log_likelihoods_match_llama_cpp_on_every_sample_item()
    {
        using var model = EvaluationModel.Open(TestPaths.Stories260K);
        using var session = model.Model.CreateSession(256, KvCacheOptions.F32);
        using var oracle = Oracle.LlamaCppModel.Load(TestPaths.Stories260K, 256);
        var scorer = new ChoiceScorer(session, batchSize: 8);
        foreach (var task in ChoiceScorerTests.SampleTasks(model.Tokenize))
        {
            var ours = scorer.Score(task).LogLikelihoods;
            var expected = ChoiceScorerTests.Reference(oracle, task);
            for (var c = 0; c < expected.Length; c++)
                Assert.True(Math.Abs(ours[c] - expected[c]) < 1e-3, $"line {task.Line} candidate {c}: Llamero {ours[c]}, llama.cpp {expected[c]}");
        }
    }

    [Fact]
    public void A_malformed_dataset_line_fails_with_its_number_before_loading_the_model()
    {
        var path = Write("bad.jsonl", DatasetTests.Jsonl + "{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"label\": 9}\n");
        var (code, _, error) = Run("eval", "multiple-choice", "-m", "/nonexistent/model.gguf", "-f", path);
        Assert.Equal(1, code);
        Assert.Contains("line 5: the answer index 9 is outside the 2 choices", error);
        var unknown = Run("eval", "arc", "-m", TestPaths.Stories260K, "-f", path);
        Assert.NotEqual(0, unknown.Code);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
