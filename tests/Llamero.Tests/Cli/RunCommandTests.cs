using Llamero.Tests.Support;

namespace Llamero.Tests.Cli;

/// <summary><c>llamero run</c> with llama.cpp's command line, on stories260K.</summary>
public class RunCommandTests
{
    private static readonly string Model = TestPaths.Stories260K;

    private static string Golden => System.Text.Json.JsonDocument
        .Parse(File.ReadAllText(TestPaths.Shared("stories260K", "stories260K.greedy-from-bos.json")))
        .RootElement.GetProperty("generated_text").GetString()!;

    [Fact]
    public void Greedy_run_from_bos_prints_the_golden_story_and_timings()
    {
        var (exit, output, error) = CliRunner.Run("run", "-m", Model, "-p", "", "-n", "256", "--temp", "0", "-c", "512");
        Assert.True(exit == 0, error);
        Assert.Equal(Golden + "\n", output);
        Assert.Contains("prompt eval time =", error);
        Assert.Contains("eval time =", error);
        Assert.Contains("tokens per second", error);
    }

    [Fact]
    public void Prompt_is_echoed_then_continued()
    {
        var (exit, output, _) = CliRunner.Run("run", "-m", Model, "-p", "Once upon a time", "-n", "16", "--temp", "0");
        Assert.Equal(0, exit);
        // The golden story starts with the same words, so greedy decoding continues it the same way.
        Assert.StartsWith("Once upon a time, there was a little girl", output);
    }

    [Fact]
    public void Model_card_command_line_is_accepted_as_written()
    {
        var (exit, output, error) = CliRunner.Run("run", "-m", Model, "--color", "-c", "512", "--temp", "0.7", "--repeat_penalty", "1.1",
            "-n", "24", "-p", @"SYSTEM: You are a storyteller.\nUSER: Tell me a story.\nASSISTANT:", "-ngl", "99", "-t", "2", "--seed", "5");
        Assert.True(exit == 0, error);
        Assert.Contains("SYSTEM: You are a storyteller.\nUSER: Tell me a story.\nASSISTANT:", output); // \n escapes processed
        Assert.Contains("\u001b[33m", output); // --color
        Assert.Contains("-ngl 99", error);
        Assert.Contains("repeat_penalty = 1.100", error);
        Assert.Contains("sampler seed: 5", error);
    }

    [Fact]
    public void Same_seed_same_output_and_repeat_penalty_spelling_variants_agree()
    {
        string Run(string seed, string penaltyFlag) =>
            CliRunner.Run("run", "-m", Model, "-p", "Once upon a time", "-n", "32", "--seed", seed, "--temp", "1", penaltyFlag, "1.2", "--repeat-last-n", "32",
                "--top-k", "50", "--top-p", "0.9", "--min-p", "0.02", "--typical", "0.95").Output;
        Assert.Equal(Run("11", "--repeat_penalty"), Run("11", "--repeat-penalty"));
        Assert.NotEqual(Run("11", "--repeat-penalty"), Run("12", "--repeat-penalty"));
    }

    [Fact]
    public void Logit_bias_can_ban_a_token()
    {
        // Greedy stories260K writes "Once upon a time," next: banning the comma changes the continuation.
        var plain = CliRunner.Run("run", "-m", Model, "-p", "Once upon a time", "-n", "1", "--temp", "0");
        using var file = global::Llamero.Gguf.GgufFile.Open(Model);
        var comma = global::Llamero.Tokenization.Tokenizer.FromGguf(file).Encode(",", addSpecial: false)[^1];
        var banned = CliRunner.Run("run", "-m", Model, "-p", "Once upon a time", "-n", "1", "--temp", "0", "-l", $"{comma}-inf", "-l", "5+0.5");
        Assert.Equal(0, banned.Exit);
        Assert.StartsWith("Once upon a time,", plain.Output);
        Assert.DoesNotContain(",", banned.Output);
        var bad = CliRunner.Run("run", "-m", Model, "-p", "x", "-l", "13x");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("--logit-bias expects", bad.Error);
    }

    [Fact]
    public void Prompt_from_a_file()
    {
        var file = Path.Combine(TestPaths.NewTempDir(), "prompt.txt");
        File.WriteAllText(file, "Once upon a time");
        var (exit, output, _) = CliRunner.Run("run", "-m", Model, "-f", file, "-n", "8", "--temp", "0");
        Assert.Equal(0, exit);
        Assert.StartsWith("Once upon a time, there was", output);
    }

    [Fact]
    public void Default_model_is_used_without_m()
    {
        var (exit, output, error) = CliRunner.Run("run", "-p", "Once upon a time", "-n", "4", "--temp", "0");
        Assert.True(exit == 0, error);
        Assert.Contains("stories260K.gguf", error);
        Assert.StartsWith("Once upon a time,", output);
    }

    [Fact]
    public void Context_shift_and_its_absence()
    {
        var shifted = CliRunner.Run("run", "-m", Model, "-p", "Once", "-c", "32", "-n", "80", "--ignore-eos", "--temp", "0", "--keep", "2");
        Assert.Equal(0, shifted.Exit);
        var stopped = CliRunner.Run("run", "-m", Model, "-p", "Once", "-c", "32", "--ignore-eos", "--temp", "0", "--no-context-shift");
        Assert.Equal(0, stopped.Exit);
        Assert.Contains("context full", stopped.Error);
    }

    [Theory]
    [InlineData("temperature must be 0 (greedy) or positive, got -1", "--temp", "-1")]
    [InlineData("top-p must be in (0, 1], got 1.5", "--top-p", "1.5")]
    [InlineData("unknown chat template 'nope'", "--chat-template", "nope")]
    [InlineData("prompt file not found", "-f", "/nonexistent/prompt.txt")]
    [InlineData("model file not found", "-m", "/nonexistent/model.gguf")]
    [InlineData("-n must be -1 (no limit) or at least 0, got -5", "-n", "-5")]
    public void Bad_input_is_one_clear_line_and_a_non_zero_exit(string message, string option, string value)
    {
        string[] args = option switch
        {
            "-m" => ["run", option, value, "-p", "x"],
            "-f" => ["run", "-m", Model, option, value],
            _ => ["run", "-m", Model, "-p", "x", option, value],
        };
        var (exit, output, error) = CliRunner.Run(args);
        Assert.Equal(1, exit);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", error);
        Assert.Equal("", output);
    }

    [Fact]
    public void Prompt_longer_than_the_context_is_an_error()
    {
        var (exit, _, error) = CliRunner.Run("run", "-m", Model, "-c", "16", "-p", string.Join(' ', Enumerable.Repeat("Once upon a time there was a girl.", 4)));
        Assert.Equal(1, exit);
        Assert.Contains("error: prompt is too long", error);
        Assert.Contains("the context holds 16", error);
    }
}
