using System.Text.Json;
using Llamero.Sampling.Grammars;
using Llamero.Server.Dtos;
using Llamero.Server.Errors;

namespace Llamero.Server.Validation;

/// <summary>
/// The output constraint of a request: <c>response_format</c> (json_object, json_schema), or llama.cpp server's
/// <c>grammar</c> (GBNF) or <c>json_schema</c> fields. At most one may be given. A malformed grammar or an
/// unsupported schema is a 400 naming the field and the problem (with line and column for GBNF).
/// </summary>
internal static class GrammarValidator
{
    private static readonly string[] FormatTypes = ["text", "json_object", "json_schema"];

    /// <summary>The grammar the answer must follow, or null for free text.</summary>
    public static Grammar? FromRequest(SamplingRequestFields r)
    {
        var format = r.ResponseFormat;
        var constrained = format?.Type is not (null or "text");
        var given = new[] { (constrained, "response_format"), (r.Grammar is not null, "grammar"), (r.JsonSchema is not null, "json_schema") }
            .Where(g => g.Item1).Select(g => g.Item2).ToList();
        if (given.Count > 1)
            throw ApiException.BadRequest($"Give only one of response_format, grammar and json_schema; got {string.Join(" and ", given)}.", given[1]);

        if (r.Grammar is { } gbnf)
            return Compile(() => Grammar.Parse(gbnf), "grammar");
        if (r.JsonSchema is { } schema)
            return Schema(schema, "json_schema");
        if (format is null)
            return null;
        switch (format.Type)
        {
            case null or "text":
                return null;
            case "json_object":
                return format.Schema is { } inline ? Schema(inline, "response_format.schema") : Grammar.JsonObject;
            case "json_schema":
                if (format.JsonSchema?.Schema is not { } jsonSchema)
                    throw ApiException.BadRequest("response_format of type json_schema needs json_schema.schema.", "response_format.json_schema.schema");
                return Schema(jsonSchema, "response_format.json_schema.schema");
            default:
                throw ApiException.BadRequest(
                    $"response_format.type must be one of {string.Join(", ", FormatTypes)}; got '{format.Type}'.", "response_format.type", "invalid_value");
        }
    }

    private static Grammar Schema(JsonElement schema, string param) =>
        Compile(() => Grammar.Parse(JsonSchemaGrammar.ToGbnf(schema)), param);

    private static Grammar Compile(Func<Grammar> compile, string param)
    {
        try
        {
            return compile();
        }
        catch (FormatException e) when (e is GrammarSyntaxException or JsonSchemaException)
        {
            throw ApiException.BadRequest(e.Message, param, param == "grammar" ? "invalid_grammar" : "invalid_json_schema");
        }
    }
}
