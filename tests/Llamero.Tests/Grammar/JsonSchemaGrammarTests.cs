using System.Text.Json;
using Llamero.Sampling.Grammars;

namespace Llamero.Tests.Grammar;

/// <summary>JSON Schema to GBNF: what the grammar accepts is valid JSON of the schema's shape, and what breaks the schema is refused.</summary>
public class JsonSchemaGrammarTests
{
    private const string Person = """
        {
          "type": "object",
          "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 12},
            "age": {"type": "integer"},
            "height": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
            "role": {"enum": ["admin", "user", 7]},
            "kind": {"const": "person"},
            "email": {"type": ["string", "null"]},
            "ok": {"type": "boolean"}
          },
          "required": ["name", "age", "kind"],
          "additionalProperties": false
        }
        """;

    private static Llamero.Sampling.Grammars.Grammar Schema(string json) => Llamero.Sampling.Grammars.Grammar.FromJsonSchema(json);

    [Theory]
    [InlineData("""{"name":"Ann","age":30,"kind":"person"}""")]
    [InlineData("""{ "name": "Bob", "age": -4, "height": 1.85, "tags": ["a", "b"], "role": 7, "kind": "person", "email": null, "ok": true }""")]
    [InlineData("""{"name":"C","age":0,"role":"admin","kind":"person","email":"c@d.e"}""")]
    public void Accepts_documents_of_the_schema(string text)
    {
        Assert.True(Schema(Person).Matches(text), text);
        using var document = JsonDocument.Parse(text);
        Assert.True(document.RootElement.TryGetProperty("name", out _));
    }

    [Theory]
    [InlineData("""{"age":30,"kind":"person"}""")]                              // missing required name
    [InlineData("""{"name":"Ann","age":30}""")]                                 // missing required kind
    [InlineData("""{"name":"Ann","age":3.5,"kind":"person"}""")]                // integer
    [InlineData("""{"name":"","age":3,"kind":"person"}""")]                     // minLength
    [InlineData("""{"name":"abcdefghijklm","age":3,"kind":"person"}""")]        // maxLength
    [InlineData("""{"name":"A","age":3,"tags":[],"kind":"person"}""")]          // minItems
    [InlineData("""{"name":"A","age":3,"tags":["a","b","c","d"],"kind":"person"}""")] // maxItems
    [InlineData("""{"name":"A","age":3,"role":"root","kind":"person"}""")]      // enum
    [InlineData("""{"name":"A","age":3,"kind":"robot"}""")]                     // const
    [InlineData("""{"name":"A","age":3,"kind":"person","extra":1}""")]          // additionalProperties false
    [InlineData("""{"age":3,"name":"A","kind":"person"}""")]                    // declaration order
    [InlineData("""{"name":"A","age":3,"email":5,"kind":"person"}""")]          // type list
    public void Refuses_documents_outside_the_schema(string text) => Assert.False(Schema(Person).Matches(text), text);

    [Fact]
    public void AnyOf_oneOf_nullable_refs_and_nested_arrays()
    {
        var grammar = Schema("""
            {
              "$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}, "required": ["x", "y"]}},
              "type": "object",
              "properties": {
                "shape": {"anyOf": [{"$ref": "#/$defs/point"}, {"type": "array", "items": {"$ref": "#/$defs/point"}}]},
                "label": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "note": {"type": "string", "nullable": true},
                "grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}, "maxItems": 2}}
              },
              "required": ["shape"]
            }
            """);
        Assert.True(grammar.Matches("""{"shape":{"x":1,"y":2}}"""));
        Assert.True(grammar.Matches("""{"shape":[{"x":1,"y":2},{"x":3,"y":4}],"label":5,"note":null,"grid":[[1,2],[]]}"""));
        Assert.True(grammar.Matches("""{"shape":[],"label":"five","note":"n"}"""));
        Assert.False(grammar.Matches("""{"shape":{"x":1}}"""));
        Assert.False(grammar.Matches("""{"shape":[],"grid":[[1,2,3]]}"""));
        Assert.False(grammar.Matches("""{"shape":[],"label":true}"""));
    }

    [Fact]
    public void Optional_properties_may_each_be_left_out()
    {
        var grammar = Schema("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}}}""");
        foreach (var text in new[] { "{}", """{"a":1}""", """{"b":1}""", """{"c":1}""", """{"a":1,"c":2}""", """{"a":1,"b":2,"c":3}""" })
            Assert.True(grammar.Matches(text), text);
        Assert.False(grammar.Matches("""{,"b":1}"""));
        Assert.False(grammar.Matches("""{"a":1,}"""));
    }

    [Fact]
    public void Additional_properties_true_or_a_schema_allow_other_keys()
    {
        var open = Schema("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true}""");
        Assert.True(open.Matches("""{"a":1,"z":[true]}"""));
        Assert.True(open.Matches("""{"z":"x","w":null}"""));
        var map = Schema("""{"type":"object","additionalProperties":{"type":"integer"}}""");
        Assert.True(map.Matches("""{"x":1,"y":2}"""));
        Assert.False(map.Matches("""{"x":"1"}"""));
        Assert.True(Schema("""{"type":"object"}""").Matches("""{"anything":[1,{}]}"""));
    }

    [Fact]
    public void Non_object_roots_and_the_empty_schema()
    {
        Assert.True(Schema("""{"type":"array","items":{"type":"boolean"}}""").Matches("[true, false]"));
        Assert.True(Schema("""{"type":"string"}""").Matches("\"hi\""));
        Assert.True(Schema("{}").Matches("[1,\"a\",{\"b\":null}]"));
        Assert.True(Schema("""{"enum":[{"a":1},[2],"ü"]}""").Matches("\"ü\""));
        Assert.True(Schema("""{"type":"array","maxItems":0}""").Matches("[]"));
    }

    [Theory]
    [InlineData("""{"type":"string","not":{"const":"a"}}""", "unsupported keyword 'not'", "#")]
    [InlineData("""{"type":"object","properties":{"n":{"type":"array","uniqueItems":true}}}""", "unsupported keyword 'uniqueItems'", "#/properties/n")]
    [InlineData("""{"type":"object","patternProperties":{"^x":{}}}""", "unsupported keyword 'patternProperties'", "#")]
    [InlineData("""{"type":"strng"}""", "unknown type 'strng'", "#")]
    [InlineData("""{"type":"object","properties":{"a":{}},"required":["b"]}""", "'required' names 'b'", "#")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "does not exist", "#")]
    [InlineData("""{"$ref":"http://example.com/s.json"}""", "only local '$ref'", "#")]
    [InlineData("""{"enum":[]}""", "non-empty array", "#")]
    [InlineData("""{"type":"array","minItems":3,"maxItems":2}""", "below minItems", "#")]
    [InlineData("""{"type":"string","maxLength":-1}""", "'maxLength' must be an integer", "#")]
    [InlineData("""[1,2]""", "must be an object", "#")]
    [InlineData("""{"type": """, "not valid JSON", "#")]
    public void Unsupported_or_malformed_schemas_are_refused_naming_the_problem(string schema, string message, string path)
    {
        var error = Assert.Throws<JsonSchemaException>(() => Schema(schema));
        Assert.Contains(message, error.Message);
        Assert.Equal(path, error.Path);
    }

    [Fact]
    public void Generated_gbnf_is_readable_and_reparses()
    {
        var gbnf = JsonSchemaGrammar.ToGbnf(Person);
        Assert.StartsWith("root ::= ", gbnf);
        Assert.Contains("root-name ::= ", gbnf);
        Assert.Equal(gbnf, Llamero.Sampling.Grammars.Grammar.Parse(gbnf).Source);
    }
}
