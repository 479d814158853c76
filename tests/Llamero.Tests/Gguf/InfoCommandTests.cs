using Llamero.Tests.Support;

namespace Llamero.Tests.Gguf;

public class InfoCommandTests
{
    [Fact]
    public void Info_shows_version_metadata_tensors_and_memory()
    {
        var (exit, output, error) = CliRunner.Run("info", TestPaths.Stories260K, "-c", "512");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("GGUF v3, alignment 32", output);
        Assert.Contains("general.architecture", output);
        Assert.Contains("\"llama\"", output);
        Assert.Contains("... 504 more]", output); // the 512-token vocabulary is summarised
        Assert.Contains("blk.4.ffn_norm.weight", output);
        Assert.Contains("parameters:      292.8K (292,800)", output);
        Assert.Contains("32.00 bits per weight", output);
        // KV cache: 2 (K and V) x 5 layers x 512 tokens x (4 KV heads x 8) x 2 bytes = 320 KiB.
        Assert.Contains("F16 KV cache:  320.00 KiB", output);
        Assert.Contains("F32 KV cache:  640.00 KiB", output);
    }

    [Fact]
    public void Info_runs_on_the_default_model_as_the_readme_says()
    {
        var (exit, output, _) = CliRunner.Run("info", Path.Combine(TestPaths.RepoRoot, "models", "stories260K.gguf"));
        Assert.Equal(0, exit);
        Assert.Contains("memory to run at context 2048", output);
    }

    [Fact]
    public void Info_on_the_vocab_only_file_says_it_has_no_tensors()
    {
        var (exit, output, _) = CliRunner.Run("info", TestPaths.Shared("llama-cpp-vocab", "ggml-vocab-llama-spm.gguf"));
        Assert.Equal(0, exit);
        Assert.Contains("GGUF v3, alignment 32, no tensors", output);
        Assert.Contains("tokenizer.ggml.tokens", output);
        Assert.DoesNotContain("tensors (", output);
    }

    [Fact]
    public void Info_on_a_bad_file_prints_one_line_and_fails()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "bad.gguf");
        File.WriteAllBytes(path, "GGUF\x07\0\0\0"u8.ToArray());
        var (exit, output, error) = CliRunner.Run("info", path);
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal($"error: {path} at byte 4: unknown GGUF version 7 (Llamero reads 1, 2 and 3)", error.TrimEnd());

        (exit, _, error) = CliRunner.Run("info", Path.Combine(dir, "missing.gguf"));
        Assert.Equal(1, exit);
        Assert.Contains("missing.gguf", error);
    }
}
