using Llamero.Cli.Inference;

namespace Llamero.Tests.Cli;

/// <summary>The small pieces behind run/chat: prompt escapes, the load progress bar, the conversation log.</summary>
public class CliHelperTests
{
    [Theory]
    [InlineData(@"SYSTEM: a\nUSER: b\nASSISTANT:", "SYSTEM: a\nUSER: b\nASSISTANT:")]
    [InlineData("tab\\there \\\\n quote\\\"\\'", "tab\there \\n quote\"'")]
    [InlineData(@"\x41\x4a", "AJ")]
    [InlineData(@"unknown \q stays, trailing \", "unknown \\q stays, trailing \\")]
    public void Escapes_are_processed_like_llama_cpp(string raw, string expected) =>
        Assert.Equal(expected, PromptEscapes.Process(raw));

    [Fact]
    public void Progress_bar_draws_on_one_line_and_ends_it_at_100_percent()
    {
        var error = new StringWriter();
        var bar = new LoadProgressBar(error, "big.gguf");
        bar.Report(0.5);
        bar.Report(0.5);
        bar.Report(1.0);
        var text = error.ToString();
        Assert.Equal("\rloading big.gguf [###############               ]  50%\rloading big.gguf [##############################] 100%" + Environment.NewLine, text);
    }

    [Fact]
    public void Conversation_log_appends_one_json_object_per_line()
    {
        var path = Path.Combine(Support.TestPaths.NewTempDir(), "log.jsonl");
        var log = ConversationLog.Open(path)!;
        log.Append("Hi \"there\"", "line one\nline two");
        log.Append("é", "");
        var lines = File.ReadAllLines(path);
        Assert.Equal(2, lines.Length);
        var first = System.Text.Json.JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("Hi \"there\"", first.GetProperty("prompt").GetString());
        Assert.Equal("line one\nline two", first.GetProperty("answer").GetString());
        Assert.Equal("é", System.Text.Json.JsonDocument.Parse(lines[1]).RootElement.GetProperty("prompt").GetString());
        Assert.Throws<DirectoryNotFoundException>(() => ConversationLog.Open("/nonexistent-dir/log.jsonl"));
    }
}
