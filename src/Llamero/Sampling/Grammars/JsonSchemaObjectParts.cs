using System.Text.Json;

namespace Llamero.Sampling.Grammars;

/// <summary>
/// The properties (in declaration order) and required names of one object schema, or of several merged by
/// <c>allOf</c>; a property declared twice must be declared the same way.
/// </summary>
internal sealed class JsonSchemaObjectParts
{
    private readonly List<(string Name, JsonElement Schema, string Path)> _properties = [];
    private readonly List<string> _required = [];

    /// <summary>Each property with its schema and that schema's JSON pointer.</summary>
    public IReadOnlyList<(string Name, JsonElement Schema, string Path)> Properties => _properties;

    /// <summary>The names that must be present.</summary>
    public IReadOnlyList<string> Required => _required;

    /// <summary>Adds the <c>properties</c> and <c>required</c> of the object schema at <paramref name="path"/>.</summary>
    public void Add(JsonElement schema, string path)
    {
        if (schema.TryGetProperty("properties", out var properties))
        {
            if (properties.ValueKind != JsonValueKind.Object)
                throw new JsonSchemaException("'properties' must be an object", path);
            foreach (var property in properties.EnumerateObject())
            {
                var known = _properties.FindIndex(p => p.Name == property.Name);
                if (known < 0)
                    _properties.Add((property.Name, property.Value, $"{path}/properties/{property.Name}"));
                else if (!JsonElement.DeepEquals(_properties[known].Schema, property.Value))
                    throw new JsonSchemaException($"property '{property.Name}' is declared differently in two 'allOf' parts (also at {_properties[known].Path})", path);
            }
        }
        if (schema.TryGetProperty("required", out var required))
        {
            if (required.ValueKind != JsonValueKind.Array)
                throw new JsonSchemaException("'required' must be an array of property names", path);
            foreach (var name in required.EnumerateArray())
            {
                if (name.ValueKind != JsonValueKind.String)
                    throw new JsonSchemaException("'required' must be an array of property names", path);
                _required.Add(name.GetString()!);
            }
        }
    }
}
