namespace Llamero.Sampling.Grammars;

/// <summary>A JSON Schema that cannot be turned into a grammar: malformed, or using an unsupported keyword.</summary>
public sealed class JsonSchemaException : FormatException
{
    /// <summary>Creates the exception for the schema at <paramref name="path"/> (a JSON pointer such as <c>#/properties/a</c>).</summary>
    public JsonSchemaException(string message, string path)
        : base($"JSON schema at {path}: {message}")
    {
        Path = path;
    }

    /// <summary>JSON pointer of the offending (sub)schema.</summary>
    public string Path { get; }
}
