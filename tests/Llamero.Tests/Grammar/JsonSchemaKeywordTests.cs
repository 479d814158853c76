using System.Text;
using System.Text.Json;
using Llamero.Generation;
using Llamero.Sampling;
using Llamero.Sampling.Grammars;
using Llamero.Tests.Support;

namespace Llamero.Tests.Grammar;

/// <summary>
/// String formats, allOf, tuples (prefixItems / items arrays), const and enum of any JSON value, $ref into
/// definitions, and annotation keywords: each accepts the documents of the schema and refuses the others.
/// </summary>
public class JsonSchemaKeywordTests
{
    private static Llamero.Sampling.Grammars.Grammar Schema(string json) => Llamero.Sampling.Grammars.Grammar.FromJsonSchema(json);

    private static void AssertClassifies(string schema, string[] inside, string[] outside)
    {
        var grammar = Schema(schema);
        foreach (var text in inside)
            Assert.True(grammar.Matches(text), $"{text} should match {schema}");
        foreach (var text in outside)
            Assert.False(grammar.Matches(text), $"{text} should not match {schema}");
    }

    [Fact]
    public void Date_follows_llama_cpps_digit_rule_not_the_calendar()
    {
        // Months 01-12 and days 01-31 in any month: 2024-02-30 passes, as it does in llama.cpp.
        AssertClassifies("""{"type":"string","format":"date"}""",
            ["\"2024-02-30\"", "\"2023-02-31\"", "\"0000-01-01\"", "\"2024-12-31\""],
            ["\"2024-02-32\"", "\"2024-13-01\"", "\"2024-00-10\"", "\"2024-01-00\"", "\"24-01-01\"", "2024-01-01", "\"2024-1-01\""]);
    }

    [Fact]
    public void Time_and_date_time_need_llama_cpps_offset()
    {
        AssertClassifies("""{"type":"string","format":"time"}""",
            ["\"12:30:45Z\"", "\"23:59:59.123+05:30\"", "\"00:00:00-23:59\""],
            ["\"24:00:00Z\"", "\"12:60:00Z\"", "\"12:30:45\"", "\"12:30:45.1Z\"", "\"12:30Z\""]);
        AssertClassifies("""{"type":"string","format":"date-time"}""",
            ["\"2024-01-15T08:00:00Z\"", "\"2024-01-15T08:00:00.000+01:00\""],
            ["\"2024-01-15 08:00:00Z\"", "\"2024-01-15\"", "\"2024-01-15T08:00:00\""]);
    }

    [Fact]
    public void Uuid_and_unknown_formats()
    {
        AssertClassifies("""{"type":"string","format":"uuid"}""",
            ["\"123e4567-e89b-12d3-a456-426614174000\"", "\"ABCDEF01-2345-6789-abcd-ef0123456789\""],
            ["\"123e4567-e89b-12d3-a456-42661417400\"", "\"123e4567e89b12d3a456426614174000\"", "\"g23e4567-e89b-12d3-a456-426614174000\""]);
        // Unknown formats constrain nothing (llama.cpp's behaviour); length bounds still apply.
        AssertClassifies("""{"type":"string","format":"email","maxLength":3}""", ["\"a@b\"", "\"\""], ["\"a@bc\"", "1"]);
        AssertClassifies("""{"format":"date"}""", ["\"2024-01-01\""], ["\"x\"", "1"]); // no type: a string
    }

    [Fact]
    public void AllOf_merges_object_schemas_properties_and_required_lists()
    {
        const string schema = """
            {
              "$defs": {"Named": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
              "allOf": [
                {"$ref": "#/$defs/Named"},
                {"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}, "name": {"type": "string"}}},
                {"allOf": [{"properties": {"tag": {"const": "x"}}, "required": ["tag"]}]}
              ],
              "description": "a named thing"
            }
            """;
        AssertClassifies(schema,
            ["""{"name":"a","age":3,"tag":"x"}""", """{"name":"a","tag":"x"}"""],
            ["""{"age":3,"tag":"x"}""", """{"name":"a"}""", """{"name":"a","age":-1,"tag":"x"}""", """{"name":"a","tag":"x","other":1}"""]);
    }

    [Fact]
    public void AllOf_of_one_schema_is_that_schema_whatever_it_is()
    {
        // What Pydantic writes for a described field whose type is a $ref.
        const string schema = """
            {"$defs": {"Color": {"enum": ["red", "green"]}},
             "type": "object", "properties": {"c": {"allOf": [{"$ref": "#/$defs/Color"}], "description": "the colour", "default": "red"}},
             "required": ["c"]}
            """;
        AssertClassifies(schema, ["""{"c":"red"}""", """{"c":"green"}"""], ["""{"c":"blue"}""", """{"c":{}}"""]);
        AssertClassifies("""{"$defs":{"n":{"type":"integer","maximum":3}},"allOf":[{"$ref":"#/$defs/n"}],"nullable":true}""", ["3", "null"], ["4", "{}"]);
    }

    [Theory]
    [InlineData("""{"allOf":[{"type":"string"},{"maxLength":3}]}""", "#/allOf/0", "'allOf' can only combine object schemas (properties, required); this part has 'type'")]
    [InlineData("""{"allOf":[{"properties":{"a":{"type":"string"}}},{"properties":{"a":{"type":"integer"}}}]}""", "#/allOf/1", "property 'a' is declared differently in two 'allOf' parts (also at #/allOf/0/properties/a)")]
    [InlineData("""{"allOf":[{"properties":{"a":{}}},{"anyOf":[{"required":["a"]}]}]}""", "#/allOf/1", "this part has 'anyOf'")]
    [InlineData("""{"allOf":[]}""", "#", "'allOf' must be a non-empty array")]
    [InlineData("""{"allOf":[{"properties":{"a":{}}},{"required":["b"]}]}""", "#", "'required' names 'b', which is not in 'properties'")]
    [InlineData("""{"type":"object","minProperties":1}""", "#", "unsupported keyword 'minProperties'")]
    [InlineData("""{"type":"array","prefixItems":[{},{}],"maxItems":1}""", "#", "maxItems 1 is below the 2 tuple items")]
    [InlineData("""{"type":"array","prefixItems":[{}],"minItems":2}""", "#", "minItems 2 asks for more than the 1 tuple items")]
    [InlineData("""{"type":"array","prefixItems":{}}""", "#", "'prefixItems' must be an array of schemas")]
    [InlineData("""{"type":"string","format":7}""", "#", "'format' must be a string")]
    [InlineData("""{"type":"string","pattern":["^a$"]}""", "#", "'pattern' must be a string")]
    public void Schemas_that_cannot_be_combined_are_refused_with_the_path(string schema, string path, string message)
    {
        var error = Assert.Throws<JsonSchemaException>(() => Schema(schema));
        Assert.Contains(message, error.Message);
        Assert.Equal(path, error.Path);
    }

    [Fact]
    public void Tuples_of_mixed_types()
    {
        AssertClassifies("""{"type":"array","prefixItems":[{"type":"string"},{"type":"integer","minimum":0,"maximum":9},{"type":"boolean"}]}""",
            ["""["a",1,true]""", """[ "b", 9, false ]"""],
            ["""["a",1]""", """["a",10,true]""", """[1,"a",true]""", """["a",1,true,null]""", "[]"]);
        // items after prefixItems: more elements of that schema, within minItems/maxItems.
        AssertClassifies("""{"type":"array","prefixItems":[{"type":"string"},{"type":"null"}],"items":{"type":"integer"},"minItems":3,"maxItems":4}""",
            ["""["a",null,1]""", """["a",null,1,2]"""],
            ["""["a",null]""", """["a",null,1,2,3]""", """["a",null,"b"]"""]);
        AssertClassifies("""{"prefixItems":[{"const":1}],"items":true}""", ["[1]", """[1,"x",{}]"""], ["[2]", "[]"]);
        AssertClassifies("""{"type":"array","prefixItems":[{"const":1}],"items":false}""", ["[1]"], ["[1,1]"]);
        // Draft 7: items as an array, then additionalItems.
        AssertClassifies("""{"type":"array","items":[{"type":"number"},{"enum":["x","y"]}],"additionalItems":{"type":"boolean"}}""",
            ["""[1.5,"x"]""", """[-2,"y",true,false]"""],
            ["""[1.5]""", """[1.5,"z"]""", """[1.5,"x",1]"""]);
        AssertClassifies("""{"type":"array","items":[{"type":"number"}]}""", ["[1]"], ["[1,2]", "[]"]);
    }

    [Fact]
    public void Const_and_enum_take_any_json_value()
    {
        AssertClassifies("""{"const":{"a":[1,null,"ü"],"b":{"c":false}}}""", ["""{"a":[1,null,"ü"],"b":{"c":false}}"""], ["""{"a":[1,null,"ü"]}""", "{}"]);
        AssertClassifies("""{"enum":[null,true,1.5,[],{"k":"v"},"s"]}""", ["null", "true", "1.5", "[]", """{"k":"v"}""", "\"s\""], ["false", "1", "\"k\"", "[null]"]);
    }

    [Fact]
    public void Refs_reach_definitions_and_the_root()
    {
        AssertClassifies("""{"definitions":{"pos":{"type":"integer","minimum":1}},"type":"array","items":{"$ref":"#/definitions/pos"}}""",
            ["[1,2]", "[]"], ["[0]", "[\"1\"]"]);
        // A tree: "$ref": "#" is the whole schema again.
        AssertClassifies("""{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#"},"maxItems":2}},"required":["v"]}""",
            ["""{"v":1}""", """{"v":1,"kids":[{"v":2},{"v":3,"kids":[{"v":4}]}]}"""], ["""{"v":1,"kids":[{}]}"""]);
    }

    [Fact]
    public void Annotation_keywords_change_nothing()
    {
        const string annotations = """
            "title":"t","description":"d","examples":[1],"default":1,"$comment":"c","deprecated":false,"readOnly":true,"writeOnly":false
            """;
        var annotated = """{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"https://x/y",""" + annotations
            + ""","type":"object","properties":{"n":{""" + annotations + ""","type":"integer"}},"required":["n"]}""";
        Assert.Equal(JsonSchemaGrammar.ToGbnf("""{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}"""), JsonSchemaGrammar.ToGbnf(annotated));
    }

    [Fact]
    public async Task Generation_with_the_new_keywords_writes_documents_of_the_schema()
    {
        // Every part is bounded, so generation ends (EOS) inside the token limit.
        const string schema = """
            {"type":"object","properties":{
              "code":{"type":"string","pattern":"^[A-Z]{2}-[0-9]{3}$"},
              "level":{"type":"integer","minimum":-20,"maximum":300},
              "day":{"type":"string","format":"date"},
              "pair":{"type":"array","prefixItems":[{"type":"boolean"},{"enum":["x","y"]}]},
              "meta":{"allOf":[{"properties":{"id":{"type":"string","format":"uuid"}},"required":["id"]}]}},
             "required":["code","level","day","pair","meta"]}
            """;
        using var llm = Llm.Load(TestPaths.Stories260K);
        var options = new GenerationOptions
        {
            MaxTokens = 500,
            Sampling = new SamplingOptions { Grammar = Schema(schema), Seed = 3, Temperature = 0.9f },
        };
        var text = new StringBuilder();
        var reason = FinishReason.MaxTokens;
        await foreach (var token in llm.GenerateTokensAsync("Once upon a time", options))
        {
            text.Append(token.Text);
            reason = token.FinishReason ?? reason;
        }
        Assert.Equal(FinishReason.EndOfGeneration, reason);
        using var document = JsonDocument.Parse(text.ToString());
        var root = document.RootElement;
        Assert.Matches("^[A-Z]{2}-[0-9]{3}$", root.GetProperty("code").GetString());
        Assert.InRange(root.GetProperty("level").GetInt64(), -20, 300);
        Assert.Matches(@"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", root.GetProperty("day").GetString());
        var pair = root.GetProperty("pair");
        Assert.Equal(2, pair.GetArrayLength());
        Assert.True(pair[0].ValueKind is JsonValueKind.True or JsonValueKind.False);
        Assert.Contains(pair[1].GetString(), (string[])["x", "y"]);
        Assert.True(Guid.TryParse(root.GetProperty("meta").GetProperty("id").GetString(), out _));
    }
}
