using System.Text;
using System.Text.Json;

namespace Llamero.Sampling.Grammars;

/// <summary>
/// Turns a JSON Schema into GBNF with the semantics of llama.cpp's <c>json-schema-to-grammar</c>. Supported:
/// <c>type</c> (object, array, string, number, integer, boolean, null, or a list of them); <c>properties</c> (written
/// in declaration order; those in <c>required</c> always, the others optionally) and <c>additionalProperties</c>
/// (absent or false: no other keys; true or a schema: any other keys after the declared ones); <c>items</c>,
/// <c>prefixItems</c> / an <c>items</c> array with <c>additionalItems</c> (tuples: every tuple item, then more only
/// where <c>items</c> / <c>additionalItems</c> allows them), <c>minItems</c>/<c>maxItems</c>; <c>minLength</c>/
/// <c>maxLength</c>, <c>pattern</c> (see <see cref="RegexParser"/> for the regex subset; anchored with ^ and $) and
/// <c>format</c> date, time, date-time, uuid (llama.cpp's rules: 2024-02-30 is a date; other formats are plain
/// strings); <c>minimum</c>/<c>maximum</c>/<c>exclusiveMinimum</c>/<c>exclusiveMaximum</c> on integers (exact digit
/// ranges; ignored on numbers, as llama.cpp ignores them); <c>enum</c> and <c>const</c> of any JSON value;
/// <c>anyOf</c>/<c>oneOf</c>; <c>allOf</c> (one schema, or object schemas whose properties and required lists merge);
/// <c>nullable</c>; local <c>$ref</c>s (<c>#</c>, <c>#/$defs/...</c>, <c>#/definitions/...</c>). Annotations (title,
/// description, default, examples, $schema, $id, $comment, deprecated, readOnly, writeOnly) are ignored; any other
/// keyword is refused with a <see cref="JsonSchemaException"/> naming it, rather than silently producing output the
/// schema would reject.
/// </summary>
public static class JsonSchemaGrammar
{
    private static readonly HashSet<string> s_structural =
    [
        "type", "properties", "required", "additionalProperties", "items", "prefixItems", "additionalItems", "minItems",
        "maxItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "enum", "const", "anyOf", "oneOf", "allOf", "nullable", "$ref", "$defs", "definitions",
    ];

    // Keywords that describe without constraining: accepted and ignored.
    private static readonly HashSet<string> s_annotations =
    [
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
        // String formats, as llama.cpp writes them: the digits' ranges, not the calendar (2024-02-30 passes).
        ["date"] = """[0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [1-2] [0-9] | "3" [0-1] )""",
        ["time"] = """([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{3} )? ( "Z" | ( "+" | "-" ) ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )""",
        ["date-time"] = "date \"T\" time",
        ["date-string"] = "\"\\\"\" date \"\\\"\" space",
        ["time-string"] = "\"\\\"\" time \"\\\"\" space",
        ["date-time-string"] = "\"\\\"\" date-time \"\\\"\" space",
        ["uuid"] = "\"\\\"\" [0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12} \"\\\"\" space",
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
        ["date-time"] = ["date", "time"],
        ["date-string"] = ["date", "space"],
        ["time-string"] = ["time", "space"],
        ["date-time-string"] = ["date-time", "space"],
        ["uuid"] = ["space"],
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
                if (!s_structural.Contains(property.Name) && !IsAnnotation(property.Name))
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
            if (schema.TryGetProperty("allOf", out var parts))
                return AllOf(schema, parts, path, name);
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

        // No "type": the keywords still say what is meant (as llama.cpp reads them); otherwise any JSON value.
        private string InferredType(JsonElement schema, string path, string name)
        {
            bool Has(params string[] keywords) => keywords.Any(k => schema.TryGetProperty(k, out _));
            if (Has("properties", "additionalProperties"))
                return ForType("object", schema, path, name);
            if (Has("items", "prefixItems", "additionalItems", "minItems", "maxItems"))
                return ForType("array", schema, path, name);
            if (Has("pattern", "format", "minLength", "maxLength"))
                return ForType("string", schema, path, name);
            if (Has("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"))
                return ForType("integer", schema, path, name); // llama.cpp: bounds without a type mean an integer
            return Primitive("value");
        }

        private string ForType(string type, JsonElement schema, string path, string name) => type switch
        {
            "object" => ObjectRule(schema, path, name),
            "array" => ArrayRule(schema, path, name),
            "string" => StringRule(schema, path, name),
            "integer" => IntegerRangeRules.ForSchema(schema, path) is { } range ? $"{range} {Primitive("space")}" : Primitive("integer"),
            "number" or "boolean" or "null" => Primitive(type), // number bounds are ignored, as llama.cpp does
            _ => throw new JsonSchemaException($"unknown type '{type}'", path),
        };

        // pattern wins over format, which wins over minLength/maxLength (llama.cpp's order); unknown formats are plain strings.
        private string StringRule(JsonElement schema, string path, string name)
        {
            if (schema.TryGetProperty("pattern", out var pattern))
            {
                if (pattern.ValueKind != JsonValueKind.String)
                    throw new JsonSchemaException("'pattern' must be a string", path);
                var text = RegexToGbnf.Convert(pattern.GetString()!, path, body => Rule($"{name}-chars", body));
                return $"{text} {Primitive("space")}";
            }
            if (schema.TryGetProperty("format", out var format))
            {
                if (format.ValueKind != JsonValueKind.String)
                    throw new JsonSchemaException("'format' must be a string", path);
                var known = format.GetString() switch
                {
                    "date" => "date-string",
                    "time" => "time-string",
                    "date-time" => "date-time-string",
                    "uuid" => "uuid",
                    _ => null,
                };
                if (known is not null)
                    return Primitive(known);
            }
            var min = Count(schema, "minLength", path) ?? 0;
            var max = Count(schema, "maxLength", path);
            if (min == 0 && max is null)
                return Primitive("string");
            if (max < min)
                throw new JsonSchemaException($"maxLength {max} is below minLength {min}", path);
            Primitive("char");
            return $"\"\\\"\" char{{{min},{max?.ToString(System.Globalization.CultureInfo.InvariantCulture)}}} \"\\\"\" {Primitive("space")}";
        }

        // items for every element; or a tuple (prefixItems, or an items array) whose later elements follow items
        // (after prefixItems) or additionalItems (after an items array), none when those are absent (llama.cpp).
        private string ArrayRule(JsonElement schema, string path, string name)
        {
            var tuple = new List<string>();
            var restKeyword = "items";
            var hasTuple = schema.TryGetProperty("prefixItems", out var prefix);
            if (!hasTuple && schema.TryGetProperty("items", out var itemsArray) && itemsArray.ValueKind == JsonValueKind.Array)
                (hasTuple, prefix, restKeyword) = (true, itemsArray, "additionalItems");
            if (hasTuple)
            {
                if (prefix.ValueKind != JsonValueKind.Array)
                    throw new JsonSchemaException("'prefixItems' must be an array of schemas", path);
                var keyword = restKeyword == "items" ? "prefixItems" : "items";
                tuple.AddRange(prefix.EnumerateArray().Select((item, i) =>
                    Rule($"{name}-{i}", Visit(item, $"{path}/{keyword}/{i}", $"{name}-{i}"))));
            }
            string? rest = Primitive("value");
            if (schema.TryGetProperty(restKeyword, out var items))
            {
                rest = items.ValueKind == JsonValueKind.False ? null
                    : Rule($"{name}-item", Visit(items, $"{path}/{restKeyword}", $"{name}-item"));
            }
            else if (hasTuple)
            {
                rest = null;
            }
            var min = Count(schema, "minItems", path) ?? 0;
            var max = Count(schema, "maxItems", path);
            if (max < min)
                throw new JsonSchemaException($"maxItems {max} is below minItems {min}", path);
            if (max < tuple.Count)
                throw new JsonSchemaException($"maxItems {max} is below the {tuple.Count} tuple items", path);
            if (rest is null && min > tuple.Count)
                throw new JsonSchemaException($"minItems {min} asks for more than the {tuple.Count} tuple items and no further items are allowed", path);
            var (restMin, restMax) = (Math.Max(min - tuple.Count, 0), rest is null ? 0 : max - tuple.Count);
            var space = Primitive("space");
            if (tuple.Count > 0)
            {
                var elements = string.Join($" \",\" {space} ", tuple);
                var more = restMax == 0 ? "" : $" (\",\" {space} {rest}){Repeat(restMin, restMax)}";
                return $"\"[\" {space} {elements}{more} \"]\" {space}";
            }
            if (restMax == 0)
                return $"\"[\" {space} \"]\" {space}";
            var list = $"{rest} (\",\" {space} {rest}){Repeat(Math.Max(restMin - 1, 0), restMax - 1)}";
            return restMin == 0 ? $"\"[\" {space} ( {list} )? \"]\" {space}" : $"\"[\" {space} {list} \"]\" {space}";
        }

        private static string Repeat(int min, int? max) =>
            $"{{{min},{max?.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}";

        private string ObjectRule(JsonElement schema, string path, string name)
        {
            var hasProperties = schema.TryGetProperty("properties", out _);
            var properties = new JsonSchemaObjectParts();
            properties.Add(schema, path);
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
            return BuildObject(properties, extraValue, path, name);
        }

        // allOf: one schema stands for itself; several must all be object schemas, whose properties and required
        // lists are merged (llama.cpp merges properties too), with no other keys allowed.
        private string AllOf(JsonElement schema, JsonElement parts, string path, string name)
        {
            if (parts.ValueKind != JsonValueKind.Array || parts.GetArrayLength() == 0)
                throw new JsonSchemaException("'allOf' must be a non-empty array", path);
            var constraints = schema.EnumerateObject()
                .Where(p => p.Name is not ("allOf" or "nullable" or "$defs" or "definitions") && !IsAnnotation(p.Name)).ToList();
            if (parts.GetArrayLength() == 1 && constraints.Count == 0)
                return Visit(parts[0], path + "/allOf/0", name);
            var merged = new JsonSchemaObjectParts();
            AddObjectPart(schema, path, merged, 0);
            return BuildObject(merged, null, path, name);
        }

        private void AddObjectPart(JsonElement part, string path, JsonSchemaObjectParts merged, int depth)
        {
            if (depth > 32)
                throw new JsonSchemaException("'allOf' and '$ref's nest more than 32 deep", path);
            if (part.ValueKind != JsonValueKind.Object)
                throw new JsonSchemaException("'allOf' can only combine object schemas", path);
            foreach (var keyword in part.EnumerateObject())
            {
                var fits = keyword.Name switch
                {
                    "type" => keyword.Value.ValueKind == JsonValueKind.String && keyword.Value.GetString() == "object",
                    "properties" or "required" or "additionalProperties" or "allOf" or "$ref" or "$defs" or "definitions" => true,
                    "nullable" => depth == 0, // the allOf schema's own, already applied around the merged object
                    _ => IsAnnotation(keyword.Name),
                };
                if (!fits)
                    throw new JsonSchemaException($"'allOf' can only combine object schemas (properties, required); this part has '{keyword.Name}'", path);
            }
            if (part.TryGetProperty("$ref", out var reference))
            {
                var (target, targetPath) = Resolve(reference, path);
                AddObjectPart(target, targetPath, merged, depth + 1);
            }
            if (part.TryGetProperty("allOf", out var parts))
            {
                if (parts.ValueKind != JsonValueKind.Array)
                    throw new JsonSchemaException("'allOf' must be a non-empty array", path);
                var i = 0;
                foreach (var inner in parts.EnumerateArray())
                    AddObjectPart(inner, $"{path}/allOf/{i++}", merged, depth + 1);
            }
            merged.Add(part, path);
        }

        private string BuildObject(JsonSchemaObjectParts parts, string? extraValue, string path, string name)
        {
            var space = Primitive("space");
            var required = new HashSet<string>(parts.Required);
            var pairs = new List<(string Pair, bool Required)>();
            foreach (var (propertyName, schema, propertyPath) in parts.Properties)
            {
                var ruleName = $"{name}-{Sanitize(propertyName)}";
                var value = Rule(ruleName, Visit(schema, propertyPath, ruleName));
                var key = $"{GbnfLiteral(Compact(w => w.WriteStringValue(propertyName)))} {space}";
                pairs.Add(($"{key} \":\" {space} {value}", required.Remove(propertyName)));
            }
            if (required.Count > 0)
                throw new JsonSchemaException($"'required' names '{required.First()}', which is not in 'properties'", path);
            var extra = extraValue is null ? null : Rule($"{name}-kv", $"{Primitive("string")} \":\" {space} {extraValue}");

            // The pairs in order, each optional one skippable, commas only between the ones written.
            string Tail(int from)
            {
                var rest = pairs.Skip(from).Select(p => p.Required ? $"\",\" {space} {p.Pair}" : $"(\",\" {space} {p.Pair})?").ToList();
                if (extra is not null)
                    rest.Add($"(\",\" {space} {extra})*");
                return string.Join(" ", rest);
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
            if (reference.ValueKind == JsonValueKind.String && reference.GetString() == "#")
                return "root";
            var (node, target) = Resolve(reference, path);
            if (_refs.TryGetValue(target, out var known))
                return known;
            var name = Unique(Sanitize(target[(target.LastIndexOf('/') + 1)..]));
            _refs[target] = name; // before visiting, so recursive definitions refer to the rule
            var body = Visit(node, target, name);
            _rules.Add((name, body));
            return name;
        }

        // The schema a local JSON pointer ('#/$defs/x', '#/definitions/x', ...) names, and the pointer.
        private (JsonElement Node, string Target) Resolve(JsonElement reference, string path)
        {
            var target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : "";
            if (!target.StartsWith("#/", StringComparison.Ordinal))
                throw new JsonSchemaException($"only local '$ref's ('#/$defs/...') are supported, got '{reference}'", path);
            var node = root;
            foreach (var segment in target[2..].Split('/'))
            {
                var key = Uri.UnescapeDataString(segment).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
                if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(key, out node))
                    throw new JsonSchemaException($"'$ref' target '{target}' does not exist", path);
            }
            return (node, target);
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

        private static bool IsAnnotation(string keyword) => s_annotations.Contains(keyword);

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
