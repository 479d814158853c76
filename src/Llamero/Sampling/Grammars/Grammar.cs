namespace Llamero.Sampling.Grammars;

/// <summary>
/// A compiled GBNF grammar (llama.cpp's grammar format): immutable and safe to share between threads and
/// generations. Constrain generation with it through <see cref="SamplingOptions.Grammar"/>; check text with
/// <see cref="Matches"/> or step through it with <see cref="CreateMatcher"/>.
/// </summary>
public sealed class Grammar
{
    private readonly GrammarElement[] _elements;
    private readonly int[][] _alternatives;

    private readonly int[] _definedAt;

    private Grammar(string source, List<List<List<GrammarElement>>> rules, List<string> names, int[] definedAt, int root)
    {
        _definedAt = definedAt;
        Source = source;
        RuleNames = names;
        Root = root;
        // Flatten: every alternative is a run of elements ended by End; a rule is the list of its runs' starts.
        var elements = new List<GrammarElement>();
        _alternatives = new int[rules.Count][];
        for (var r = 0; r < rules.Count; r++)
        {
            _alternatives[r] = new int[rules[r].Count];
            for (var a = 0; a < rules[r].Count; a++)
            {
                _alternatives[r][a] = elements.Count;
                elements.AddRange(rules[r][a]);
                elements.Add(GrammarElement.End);
            }
        }
        _elements = [.. elements];
        LeftRecursion.Check(this);
    }

    /// <summary>The GBNF text the grammar was compiled from.</summary>
    public string Source { get; }

    /// <summary>Rule names by id, including the rules generated for groups and repetitions.</summary>
    public IReadOnlyList<string> RuleNames { get; }

    internal int Root { get; }

    internal ReadOnlySpan<GrammarElement> Elements => _elements;

    internal GrammarElement Element(int position) => _elements[position];

    internal int[] Alternatives(int rule) => _alternatives[rule];

    /// <summary>Where rule <paramref name="rule"/> is defined (for a generated rule: its group or repetition).</summary>
    internal (int Line, int Column) DefinedAt(int rule) => GbnfParser.LineColumn(Source, _definedAt[rule]);

    /// <summary>
    /// Compiles GBNF text. Throws <see cref="GrammarSyntaxException"/> (with line and column) on a malformed
    /// grammar, an undefined rule, a missing <paramref name="rootRule"/>, or left recursion.
    /// </summary>
    public static Grammar Parse(string gbnf, string rootRule = "root")
    {
        ArgumentNullException.ThrowIfNull(gbnf);
        ArgumentNullException.ThrowIfNull(rootRule);
        var (rules, names, definedAt) = GbnfParser.Parse(gbnf);
        var root = names.IndexOf(rootRule);
        if (root < 0)
            throw new GrammarSyntaxException($"the grammar has no '{rootRule}' rule (generation starts there)", 1, 1);
        return new Grammar(gbnf, rules, names, definedAt, root);
    }

    /// <summary>Any JSON object, with llama.cpp's <c>json.gbnf</c> rules (what <c>response_format: json_object</c> asks for).</summary>
    public static Grammar JsonObject => s_jsonObject.Value;

    private static readonly Lazy<Grammar> s_jsonObject = new(() => Parse(BuiltInGrammars.JsonObject));

    /// <summary>
    /// A grammar for the JSON documents that <paramref name="schemaJson"/> (a JSON Schema) describes; see
    /// <see cref="JsonSchemaGrammar"/> for the supported subset. Throws <see cref="JsonSchemaException"/> naming an
    /// unsupported keyword or a malformed schema.
    /// </summary>
    public static Grammar FromJsonSchema(string schemaJson) => Parse(JsonSchemaGrammar.ToGbnf(schemaJson));

    /// <summary>A fresh matcher at the start of the grammar.</summary>
    public GrammarMatcher CreateMatcher() => new(this);

    /// <summary>Whether the whole of <paramref name="text"/> is a sentence of the grammar.</summary>
    public bool Matches(string text)
    {
        var matcher = CreateMatcher();
        return matcher.Accept(text) && matcher.IsComplete;
    }

    /// <summary>The GBNF source.</summary>
    public override string ToString() => Source;
}
