namespace Llamero.Sampling.Grammars;

/// <summary>GBNF texts shipped with Llamero.</summary>
public static class BuiltInGrammars
{
    /// <summary>
    /// Any JSON object, following llama.cpp's <c>grammars/json.gbnf</c>: whitespace only at a few places and
    /// bounded (so a model cannot pad forever), numbers of at most 16 digits per part, strings without raw control
    /// characters.
    /// </summary>
    public const string JsonObject = """
        root   ::= object
        value  ::= object | array | string | number | ("true" | "false" | "null") ws

        object ::=
          "{" ws (
                    string ":" ws value
            ("," ws string ":" ws value)*
          )? "}" ws

        array  ::=
          "[" ws (
                    value
            ("," ws value)*
          )? "]" ws

        string ::=
          "\"" (
            [^"\\\x7F\x00-\x1F] |
            "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
          )* "\"" ws

        number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [0-9]{0,15})? ws

        # Optional space: after literal characters where JSON allows it, at most one line break and 20 indents.
        ws ::= | " " | "\n" [ \t]{0,20}

        """;

    /// <summary>Any JSON value (the same rules as <see cref="JsonObject"/> with <c>value</c> at the root).</summary>
    public static string JsonValue { get; } = JsonObject.Replace("root   ::= object", "root   ::= value", StringComparison.Ordinal);
}
