using System.Text.Json;
using Llamero.Tests.Support;

namespace Llamero.Tests.Cli;

/// <summary><c>llamero chat</c> (and <c>run -cnv</c>) driven through standard input, on stories260K.</summary>
public class ChatCommandTests
{
    private static readonly string Model = TestPaths.Stories260K;

    private static string[] Chat(params string[] extra) => ["chat", "-m", Model, "--temp", "0", "-n", "16", "-c", "256", .. extra];

    [Fact]
    public void Turns_are_answered_and_logged_one_json_line_each()
    {
        var log = Path.Combine(TestPaths.NewTempDir(), "conversations.jsonl");
        var (exit, output, error) = CliRunner.RunWithInput("Lily went to the park.\nThen she saw a dog.\n", Chat("--log", log));
        Assert.True(exit == 0, error);
        var lines = File.ReadAllLines(log);
        Assert.Equal(2, lines.Length);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("Lily went to the park.", first.GetProperty("prompt").GetString());
        var answer = first.GetProperty("answer").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(answer));
        Assert.Contains(answer, output);
        Assert.Equal("Then she saw a dog.", JsonDocument.Parse(lines[1]).RootElement.GetProperty("prompt").GetString());
        Assert.Contains("== chat mode", error);
    }

    [Fact]
    public void A_turn_too_long_for_the_context_fails_alone_and_is_not_logged()
    {
        var log = Path.Combine(TestPaths.NewTempDir(), "conversations.jsonl");
        var tooLong = string.Join(' ', Enumerable.Repeat("Once upon a time there was a girl.", 10));
        var (exit, _, error) = CliRunner.RunWithInput($"Hello.\n{tooLong}\nBye.\n",
            ["chat", "-m", Model, "--temp", "0", "-n", "8", "-c", "64", "--log", log]);
        Assert.Equal(1, exit);
        Assert.Contains("error: prompt is too long", error);
        var prompts = File.ReadAllLines(log).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("prompt").GetString());
        Assert.Equal(["Hello.", "Bye."], prompts);
    }

    [Theory]
    [InlineData("--temp", "-0.5", "temperature")]
    [InlineData("--top-p", "1.01", "top-p")]
    [InlineData("--chat-template", "nope", "unknown chat template")]
    public void Bad_options_fail_before_anything_is_logged(string option, string value, string message)
    {
        var log = Path.Combine(TestPaths.NewTempDir(), "conversations.jsonl");
        var (exit, _, error) = CliRunner.RunWithInput("Hello.\n", ["chat", "-m", Model, option, value, "--log", log]);
        Assert.Equal(1, exit);
        Assert.Contains(message, error);
        Assert.False(File.Exists(log));
    }

    [Fact]
    public void Save_reset_and_load_commands()
    {
        var dir = TestPaths.NewTempDir();
        var saved = Path.Combine(dir, "chat.json");
        var (exit, _, error) = CliRunner.RunWithInput($"Lily went to the park.\n/save {saved}\n/reset\n/load {saved}\n/exit\n", Chat());
        Assert.True(exit == 0, error);
        Assert.Contains("[conversation reset]", error);
        Assert.Contains("2 messages", error);
        var messages = JsonDocument.Parse(File.ReadAllText(saved)).RootElement.GetProperty("messages");
        Assert.Equal("Lily went to the park.", messages[0].GetProperty("content").GetString());
        Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
    }

    [Fact]
    public void Run_with_cnv_or_ins_or_i_is_chat()
    {
        foreach (var flag in new[] { "-cnv", "-ins", "-i" })
        {
            var (exit, output, error) = CliRunner.RunWithInput("Then she saw a dog.\n",
                "run", "-m", Model, flag, "--temp", "0", "-n", "8", "-p", "Lily went to the park.");
            Assert.True(exit == 0, flag + ": " + error);
            Assert.Contains("== chat mode", error);
            Assert.Equal(2, output.Split("\n> ").Length - 1); // two prompts shown: after the -p answer and after the piped line
        }
    }

    [Fact]
    public void System_prompt_and_template_are_applied()
    {
        var (exit, _, error) = CliRunner.RunWithInput("Hi.\n", Chat("--system", "You are kind.", "--chat-template", "vicuna-orca"));
        Assert.True(exit == 0, error);
        Assert.Contains("template vicuna-orca", error);
    }
}
