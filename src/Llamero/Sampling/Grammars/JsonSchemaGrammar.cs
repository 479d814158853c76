using System.Text;
using System.Text.Json;

namespace Llamero.Sampling.Grammars;

/// <summary>
/// Turns a JSON Schema into GBNF, in the spirit of llama.cpp's <c>json-schema-to-grammar</c>, for the common
/// subset: <c>type</c> (object, array, string, number, integer, boolean, null, or a list of them), <c>properties</c>
/// (written in declaration order; those in <c>required</c> always, the others optionally), <c>additionalProperties</c>
/// (absent or false: no other keys; true or a schema: any other keys after the declared ones), <c>items</c>,
/// <c>minItems</c>/<c>maxItems</c>, <c>minLength</c>/<c>maxLength</c>, <c>enum</c>, <c>const</c>, <c>anyOf</c>/<c>oneOf</c>,
/// <c>nullable</c>, and local <c>$ref</c>s into <c>$defs</c>/<c>definitions</c>. Annotations (title, description,
/// default, examples, ...) are ignored; any other keyword is refused with a <see cref="JsonSchemaException"/>
/// naming it, rather than silently producing output the schema would reject.
/// </summary>
public static class JsonSchemaGrammar
{
    private static readonly HashSet<string> s_supported =
    [
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minLength",
        "maxLength", "enum", "const", "anyOf", "oneOf", "nullable", "$ref", "$defs", "definitions",
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly",
    ];

    private static readonly Dictionary<string, string> s_primitives = new()
    {
        ["space"] = """| " " | "\n" [ \t]{0,20}""",
        ["boolean"] = """("true" | "false") space""",
        ["null"] = "\"null\" space",
        ["integral-part"] = "[0] | [1-9] [0-9]{0,15}",
        ["decimal-part"] = "[0-9]{1,16}",
        ["integer"] = "(\"-\"? integral-part) space",
        ["number"] = "(\"-\"? integral-part) (\".\" decimal-part)? ([eE] [-+]? integral-part)? space",
        ["char"] = """[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})""",
        ["string"] = "\"\\\"\" char* \"\\\"\" space",
        ["value"] = "object | array | string | number | boolean | null",
        ["object"] = "\"{\" space ( string \":\" space value (\",\" space string \":\" space value)* )? \"}\" space",
        ["array"] = "\"[\" space ( value (\",\" space value)* )? \"]\" space",
    };

    // Which primitives each one uses, so only what is needed is written out.
    private static readonly Dictionary<string, string[]> s_needs = new()
    {
        ["boolean"] = ["space"],
        ["null"] = ["space"],
        ["integer"] = ["integral-part", "space"],
        ["number"] = ["integral-part", "decimal-part", "space"],
        ["string"] = ["char", "space"],
        ["value"] = ["object", "array", "string", "number", "boolean", "null"],
        ["object"] = ["string", "value", "space"],
        ["array"] = ["value", "space"],
    };

    /// <summary>The GBNF for <paramref name="schemaJson"/>; its <c>root</c> rule matches the documents the schema allows.</summary>
    public static string ToGbnf(string schemaJson)
    {
        ArgumentNullException.ThrowIfNull(schemaJson);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(schemaJson);
        }
        catch (JsonException e)
        {
            throw new JsonSchemaException($"not valid JSON ({e.Message})", "#");
        }
        using (document)
            return ToGbnf(document.RootElement);
    }

    /// <summary>The GBNF for an already parsed schema.</summary>
    public static string ToGbnf(JsonElement schema) => new Converter(schema).Run();

    private sealed class Converter(JsonElement root)
    {
        private readonly List<(string Name, string Body)> _rules = [];
        private readonly HashSet<string> _names = [];
        private readonly HashSet<string> _primitives = [];
        private readonly Dictionary<string, string> _refs = [];

        public string Run()
        {
            _names.Add("root");
            var body = Visit(root, "#", "root");
            _rules.Insert(0, ("root", body));
            var text = new StringBuilder();
            foreach (var (name, rule) in _rules)
                text.Append(name).Append(" ::= ").Append(rule).Append('\n');
            foreach (var name in s_primitives.Keys.Where(_primitives.Contains))
                text.Append(name).Append(" ::= ").Append(s_primitives[name]).Append('\n');
            return text.ToString();
        }

        // Returns a GBNF expression matching the schema (followed by optional space, like every value).
        private string Visit(JsonElement schema, string path, string name)
        {
            if (schema.ValueKind == JsonValueKind.True)
                return Primitive("value");
            if (schema.ValueKind != JsonValueKind.Object)
                throw new JsonSchemaException($"a schema must be an object or true, got {schema.ValueKind}", path);
            foreach (var property in schema.EnumerateObject())
            {
                if (!s_supported.Contains(property.Name))
                    throw new JsonSchemaException($"unsupported keyword '{property.Name}'", path);
            }

            if (schema.TryGetProperty("$ref", out var reference))
                return Ref(reference, path);
            var nullable = schema.TryGetProperty("nullable", out var n) && n.ValueKind == JsonValueKind.True;
            var expression = VisitNonNull(schema, path, name);
            return nullable ? $"( {expression} | {Primitive("null")} )" : expression;
        }

        private string VisitNonNull(JsonElement schema, string path, string name)
        {
            if (schema.TryGetProperty("const", out var constant))
                return Literal(constant);
            if (schema.TryGetProperty("enum", out var values))
            {
                if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
                    throw new JsonSchemaException("'enum' must be a non-empty array", path);
                return "( " + string.Join(" | ", values.EnumerateArray().Select(Literal)) + " )";
            }
            foreach (var keyword in (string[])["anyOf", "oneOf"])
            {
                if (!schema.TryGetProperty(keyword, out var options))
                    continue;
                if (options.ValueKind != JsonValueKind.Array || options.GetArrayLength() == 0)
                    throw new JsonSchemaException($"'{keyword}' must be a non-empty array", path);
                var alternatives = options.EnumerateArray()
                    .Select((option, i) => Rule($"{name}-{i}", Visit(option, $"{path}/{keyword}/{i}", $"{name}-{i}")));
                return "( " + string.Join(" | ", alternatives) + " )";
            }
            if (!schema.TryGetProperty("type", out var type))
                return InferredType(schema, path, name);
            if (type.ValueKind == JsonValueKind.String)
                return ForType(type.GetString()!, schema, path, name);
            if (type.ValueKind == JsonValueKind.Array && type.GetArrayLength() > 0)
            {
                var types = type.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString()!
                    : throw new JsonSchemaException("'type' entries must be strings", path));
                return "( " + string.Join(" | ", types.Select(t => ForType(t, schema, path, name))) + " )";
            }
            throw new JsonSchemaException("'type' must be a string or a non-empty array of strings", path);
        }

        // No "type": object and array keywords still say what is meant; otherwise any JSON value.
        private string InferredType(JsonElement schema, string path, string name)
        {
            if (schema.TryGetProperty("properties", out _) || schema.TryGetProperty("additionalProperties", out _))
                return ForType("object", schema, path, name);
            if (schema.TryGetProperty("items", out _))
                return ForType("array", schema, path, name);
            return Primitive("value");
        }

        private string ForType(string type, JsonElement schema, string path, string name) => type switch
        {
            "object" => ObjectRule(schema, path, name),
            "array" => ArrayRule(schema, path, name),
            "string" => StringRule(schema, path),
            "number" or "integer" or "boolean" or "null" => Primitive(type),
            _ => throw new JsonSchemaException($"unknown type '{type}'", path),
        };

        private string StringRule(JsonElement schema, string path)
        {
            var min = Count(schema, "minLength", path) ?? 0;
            var max = Count(schema, "maxLength", path);
            if (min == 0 && max is null)
                return Primitive("string");
            if (max < min)
                throw new JsonSchemaException($"maxLength {max} is below minLength {min}", path);
            Primitive("char");
            return $"\"\\\"\" char{{{min},{max?.ToString(System.Globalization.CultureInfo.InvariantCulture)}}} \"\\\"\" {Primitive("space")}";
        }

        private string ArrayRule(JsonElement schema, string path, string name)
        {
            var item = schema.TryGetProperty("items", out var items)
                ? Rule($"{name}-item", Visit(items, path + "/items", $"{name}-item"))
                : Primitive("value");
            var min = Count(schema, "minItems", path) ?? 0;
            var max = Count(schema, "maxItems", path);
            if (max < min)
                throw new JsonSchemaException($"maxItems {max} is below minItems {min}", path);
            var space = Primitive("space");
            if (max == 0)
                return $"\"[\" {space} \"]\" {space}";
            var more = $"(\",\" {space} {item}){{{Math.Max(min - 1, 0)},{(max is { } m ? (m - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : "")}}}";
            var list = $"{item} {more}";
            return min == 0 ? $"\"[\" {space} ( {list} )? \"]\" {space}" : $"\"[\" {space} {list} \"]\" {space}";
        }

        private string ObjectRule(JsonElement schema, string path, string name)
        {
            var hasProperties = schema.TryGetProperty("properties", out var properties);
            if (hasProperties && properties.ValueKind != JsonValueKind.Object)
                throw new JsonSchemaException("'properties' must be an object", path);
            var required = new HashSet<string>();
            if (schema.TryGetProperty("required", out var requiredList))
            {
                if (requiredList.ValueKind != JsonValueKind.Array)
                    throw new JsonSchemaException("'required' must be an array of property names", path);
                foreach (var r in requiredList.EnumerateArray())
                    required.Add(r.GetString() ?? throw new JsonSchemaException("'required' must be an array of property names", path));
            }
            // Additional keys: absent or false forbids them (llama.cpp), true allows any value, a schema constrains them.
            string? extraValue = null;
            if (schema.TryGetProperty("additionalProperties", out var additional))
            {
                extraValue = additional.ValueKind switch
                {
                    JsonValueKind.False => null,
                    JsonValueKind.True => Primitive("value"),
                    JsonValueKind.Object => Rule($"{name}-additional", Visit(additional, path + "/additionalProperties", $"{name}-additional")),
                    _ => throw new JsonSchemaException("'additionalProperties' must be a boolean or a schema", path),
                };
            }
            else if (!hasProperties)
            {
                return Primitive("object"); // a bare {"type": "object"}: any object
            }

            var space = Primitive("space");
            var pairs = new List<(string Pair, bool Required)>();
            if (hasProperties)
            {
                foreach (var property in properties.EnumerateObject())
                {
                    var ruleName = $"{name}-{Sanitize(property.Name)}";
                    var value = Rule(ruleName, Visit(property.Value, $"{path}/properties/{property.Name}", ruleName));
                    var key = $"{GbnfLiteral(Compact(w => w.WriteStringValue(property.Name)))} {space}";
                    pairs.Add(($"{key} \":\" {space} {value}", required.Remove(property.Name)));
                }
            }
            if (required.Count > 0)
                throw new JsonSchemaException($"'required' names '{required.First()}', which is not in 'properties'", path);
            var extra = extraValue is null ? null : Rule($"{name}-kv", $"{Primitive("string")} \":\" {space} {extraValue}");

            // The pairs in order, each optional one skippable, commas only between the ones written.
            string Tail(int from)
            {
                var parts = pairs.Skip(from).Select(p => p.Required ? $"\",\" {space} {p.Pair}" : $"(\",\" {space} {p.Pair})?").ToList();
                if (extra is not null)
                    parts.Add($"(\",\" {space} {extra})*");
                return string.Join(" ", parts);
            }
            string First(int from)
            {
                if (from == pairs.Count)
                    return extra is null ? "" : $"( {extra} (\",\" {space} {extra})* )?";
                var (pair, isRequired) = pairs[from];
                var here = $"{pair} {Tail(from + 1)}".TrimEnd();
                return isRequired ? here : $"( {here} | {First(from + 1)} )";
            }
            return $"\"{{\" {space} {First(0)} \"}}\" {space}";
        }

        private string Ref(JsonElement reference, string path)
        {
            var target = reference.GetString();
            if (target is null || !target.StartsWith("#/", StringComparison.Ordinal))
                throw new JsonSchemaException($"only local '$ref's ('#/$defs/...') are supported, got '{reference}'", path);
            if (_refs.TryGetValue(target, out var known))
                return known;
            var node = root;
            foreach (var segment in target[2..].Split('/'))
            {
                var key = segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
                if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(key, out node))
                    throw new JsonSchemaException($"'$ref' target '{target}' does not exist", path);
            }
            var name = Unique(Sanitize(target[(target.LastIndexOf('/') + 1)..]));
            _refs[target] = name; // before visiting, so recursive definitions refer to the rule
            var body = Visit(node, target, name);
            _rules.Add((name, body));
            return name;
        }

        // Names an expression as its own rule (keeps the GBNF readable); plain rule names pass through.
        private string Rule(string name, string body)
        {
            if (IsName(body))
                return body;
            var unique = Unique(Sanitize(name));
            _rules.Add((unique, body));
            return unique;
        }

        private string Unique(string name)
        {
            var unique = name;
            for (var i = 1; !_names.Add(unique) || s_primitives.ContainsKey(unique); i++)
                unique = $"{name}{i}";
            return unique;
        }

        private string Primitive(string name)
        {
            if (_primitives.Add(name) && s_needs.TryGetValue(name, out var needs))
            {
                foreach (var need in needs)
                    Primitive(need);
            }
            return name;
        }

        // A JSON value written exactly (compact), then optional space.
        private string Literal(JsonElement value) => $"{GbnfLiteral(Compact(value.WriteTo))} {Primitive("space")}";

        private static int? Count(JsonElement schema, string keyword, string path)
        {
            if (!schema.TryGetProperty(keyword, out var value))
                return null;
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n < 0 || n > 4096)
                throw new JsonSchemaException($"'{keyword}' must be an integer in 0..4096", path);
            return n;
        }

        private static bool IsName(string text) => text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

        private static string Sanitize(string name)
        {
            var clean = new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]);
            return clean.Length == 0 ? "x" : clean;
        }
    }

    // Compact JSON with non-ASCII characters left as they are (what a model writes), not \u-escaped.
    private static string Compact(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes <paramref name="text"/> as a GBNF string literal.</summary>
    public static string GbnfLiteral(string text)
    {
        var literal = new StringBuilder("\"");
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => literal.Append("\\\""),
                '\\' => literal.Append("\\\\"),
                '\n' => literal.Append("\\n"),
                '\r' => literal.Append("\\r"),
                '\t' => literal.Append("\\t"),
                < ' ' => literal.Append($"\\x{(int)c:X2}"),
                _ => literal.Append(c),
            };
        }
        return literal.Append('"').ToString();
    }
}
