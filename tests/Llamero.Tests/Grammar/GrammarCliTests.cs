using System.Text.Json;
using Llamero.Tests.Cli;
using Llamero.Tests.Support;

namespace Llamero.Tests.Grammar;

/// <summary><c>llamero run</c> with llama.cpp's <c>--grammar</c>, <c>--grammar-file</c> and <c>--json-schema</c>/<c>-j</c> on stories260K.</summary>
public class GrammarCliTests
{
    private static readonly string Model = TestPaths.Stories260K;
    private const string Prompt = "Once upon a time";

    private static string Generated(string output)
    {
        Assert.StartsWith(Prompt, output);
        return output[Prompt.Length..].TrimEnd('\n');
    }

    [Fact]
    public void Grammar_constrains_the_story()
    {
        var (exit, output, error) = CliRunner.Run("run", "-m", Model, "-p", Prompt, "-n", "50", "--seed", "3",
            "--grammar", "root ::= \" the \" (\"cat\" | \"dog\") \" said \" [0-9]{1,2} \".\"");
        Assert.True(exit == 0, error);
        Assert.Matches("^ the (cat|dog) said [0-9]{1,2}\\.$", Generated(output));
        Assert.Contains("logits -> grammar", error);
    }

    [Fact]
    public void Grammar_file_and_json_schema()
    {
        var dir = TestPaths.NewTempDir();
        var file = Path.Combine(dir, "answer.gbnf");
        File.WriteAllText(file, "# yes or no\nroot ::= \" \" (\"yes\" | \"no\")\n");
        var (exit, output, error) = CliRunner.Run("run", "-m", Model, "-p", Prompt, "-n", "20", "--grammar-file", file);
        Assert.True(exit == 0, error);
        Assert.Contains(Generated(output), (string[])[" yes", " no"]);

        (exit, output, error) = CliRunner.Run("run", "-m", Model, "-p", Prompt, "-n", "300", "--seed", "2", "-j",
            """{"type":"object","properties":{"hero":{"type":"string","maxLength":10},"age":{"type":"integer"}},"required":["hero","age"],"additionalProperties":false}""");
        Assert.True(exit == 0, error);
        using var document = JsonDocument.Parse(Generated(output));
        Assert.True(document.RootElement.GetProperty("age").TryGetInt64(out _));
        Assert.True(document.RootElement.GetProperty("hero").GetString()!.Length <= 10);
    }

    [Fact]
    public void Chat_answers_every_turn_under_the_grammar()
    {
        var log = Path.Combine(TestPaths.NewTempDir(), "chat.jsonl");
        var (exit, _, error) = CliRunner.RunWithInput("Is the sky blue?\nIs grass red?\n",
            ["chat", "-m", Model, "-n", "16", "-c", "256", "--seed", "1", "--log", log, "--grammar", "root ::= \" \" (\"yes\" | \"no\") \".\""]);
        Assert.True(exit == 0, error);
        var answers = File.ReadAllLines(log).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("answer").GetString()!.Trim()).ToArray();
        Assert.Equal(2, answers.Length);
        Assert.All(answers, a => Assert.Contains(a, (string[])["yes.", "no."]));
    }

    [Theory]
    [InlineData("--grammar", "root ::= (\"a\"", "--grammar: grammar error at line 1, column 14: missing ')'")]
    [InlineData("-j", "{\"type\":\"string\",\"pattern\":\"a\"}", "--json-schema: JSON schema at #: pattern 'a': a pattern must start with '^' and end with '$'")]
    [InlineData("--grammar-file", "/nonexistent/x.gbnf", "--grammar-file: cannot read '/nonexistent/x.gbnf'")]
    public void Bad_grammar_is_a_one_line_error(string option, string value, string message)
    {
        var (exit, _, error) = CliRunner.Run("run", "-m", Model, "-p", Prompt, "-n", "5", option, value);
        Assert.NotEqual(0, exit);
        Assert.Contains(message, error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void Only_one_constraint_at_a_time()
    {
        var (exit, _, error) = CliRunner.Run("run", "-m", Model, "-p", Prompt, "--grammar", "root ::= \"a\"", "-j", "{}");
        Assert.NotEqual(0, exit);
        Assert.Contains("give only one of", error);
    }
}
