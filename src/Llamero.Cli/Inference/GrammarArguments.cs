using System.CommandLine;
using Llamero.Sampling.Grammars;

namespace Llamero.Cli.Inference;

/// <summary>
/// llama.cpp's output constraints: <c>--grammar</c>, <c>--grammar-file</c>, <c>--json-schema</c>/<c>-j</c> and
/// <c>--json-schema-file</c>/<c>-jf</c> (at most one). A malformed grammar or unsupported schema is a one-line
/// error naming the option and the position or keyword.
/// </summary>
internal sealed class GrammarArguments
{
    public Option<string?> Grammar { get; } = new("--grammar") { Description = "GBNF grammar the output must follow (llama.cpp's format)." };
    public Option<string?> GrammarFile { get; } = new("--grammar-file") { Description = "File holding a GBNF grammar the output must follow." };
    public Option<string?> JsonSchema { get; } = new("--json-schema", "-j") { Description = "JSON Schema the output must follow, e.g. '{}' for any JSON value." };
    public Option<string?> JsonSchemaFile { get; } = new("--json-schema-file", "-jf") { Description = "File holding a JSON Schema the output must follow." };

    public IEnumerable<Option> All() => [Grammar, GrammarFile, JsonSchema, JsonSchemaFile];

    /// <summary>The grammar asked for, or null; throws <see cref="ArgumentException"/> with a one-line reason.</summary>
    public Grammar? Read(ParseResult result)
    {
        var given = All().Where(o => result.GetResult(o) is not null).Select(o => o.Name).ToList();
        if (given.Count > 1)
            throw new ArgumentException($"give only one of --grammar, --grammar-file, --json-schema and --json-schema-file (got {string.Join(" and ", given)})");
        if (result.GetValue(Grammar) is { } gbnf)
            return Compile("--grammar", () => Sampling.Grammars.Grammar.Parse(gbnf));
        if (result.GetValue(GrammarFile) is { } grammarFile)
            return Compile("--grammar-file", () => Sampling.Grammars.Grammar.Parse(ReadFile("--grammar-file", grammarFile)));
        if (result.GetValue(JsonSchema) is { } schema)
            return Compile("--json-schema", () => Sampling.Grammars.Grammar.FromJsonSchema(schema));
        if (result.GetValue(JsonSchemaFile) is { } schemaFile)
            return Compile("--json-schema-file", () => Sampling.Grammars.Grammar.FromJsonSchema(ReadFile("--json-schema-file", schemaFile)));
        return null;
    }

    private static string ReadFile(string option, string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{option}: cannot read '{path}': {e.Message}");
        }
    }

    private static Grammar Compile(string option, Func<Grammar> compile)
    {
        try
        {
            return compile();
        }
        catch (FormatException e) when (e is GrammarSyntaxException or JsonSchemaException)
        {
            throw new ArgumentException($"{option}: {e.Message}");
        }
    }
}
