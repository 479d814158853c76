namespace Llamero.Sampling.Grammars;

/// <summary>
/// Refuses grammars in which a rule can reach itself without consuming a character (left recursion, also through
/// rules that can match nothing): the matcher's stack expansion would never end on them. llama.cpp refuses them
/// too.
/// </summary>
internal static class LeftRecursion
{
    public static void Check(Grammar grammar)
    {
        var ruleCount = grammar.RuleNames.Count;
        var nullable = Nullable(grammar, ruleCount);
        // Rules each rule can start with: leading references, continuing past the ones that can match nothing.
        var leading = new List<int>[ruleCount];
        for (var r = 0; r < ruleCount; r++)
        {
            leading[r] = [];
            foreach (var start in grammar.Alternatives(r))
            {
                for (var p = start; ; p++)
                {
                    var e = grammar.Element(p);
                    if (e.Kind != GrammarElementKind.RuleRef)
                        break;
                    leading[r].Add(e.Rule);
                    if (!nullable[e.Rule])
                        break;
                }
            }
        }

        var state = new byte[ruleCount]; // 0 unseen, 1 on the path, 2 done
        var path = new List<int>();
        for (var r = 0; r < ruleCount; r++)
            Visit(r);

        void Visit(int rule)
        {
            if (state[rule] == 2)
                return;
            if (state[rule] == 1)
            {
                var cycle = path[path.IndexOf(rule)..].Append(rule).Select(i => grammar.RuleNames[i]);
                var (line, column) = grammar.DefinedAt(rule);
                throw new GrammarSyntaxException(
                    $"left recursion: rule '{grammar.RuleNames[rule]}' can reach itself without matching a character ({string.Join(" -> ", cycle)})", line, column);
            }
            if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
            {
                var (atLine, atColumn) = grammar.DefinedAt(rule);
                throw new GrammarSyntaxException($"rules refer to each other too deeply (at rule '{grammar.RuleNames[rule]}')", atLine, atColumn);
            }
            state[rule] = 1;
            path.Add(rule);
            foreach (var next in leading[rule])
                Visit(next);
            path.RemoveAt(path.Count - 1);
            state[rule] = 2;
        }
    }

    // Fixed point: a rule matches the empty string when one of its alternatives holds only such rules.
    private static bool[] Nullable(Grammar grammar, int ruleCount)
    {
        var nullable = new bool[ruleCount];
        bool changed;
        do
        {
            changed = false;
            for (var r = 0; r < ruleCount; r++)
            {
                if (nullable[r])
                    continue;
                foreach (var start in grammar.Alternatives(r))
                {
                    var p = start;
                    while (grammar.Element(p) is { Kind: GrammarElementKind.RuleRef } e && nullable[e.Rule])
                        p++;
                    if (grammar.Element(p).Kind == GrammarElementKind.End)
                    {
                        nullable[r] = true;
                        changed = true;
                        break;
                    }
                }
            }
        }
        while (changed);
        return nullable;
    }
}
