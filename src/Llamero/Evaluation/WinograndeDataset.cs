namespace Llamero.Evaluation;

/// <summary>
/// llama-perplexity's --winogrande data: CSV lines "index,sentence,choice1,choice2,answer" (the sentence may be
/// quoted; it holds one '_' where a choice goes; answer 1 or 2). A header line "index,sentence,..." is skipped.
/// Scoring is llama.cpp's: the words after the blank are scored (when both continuations exceed 3 tokens; otherwise
/// from the first differing token), without the final token (the full stop).
/// </summary>
public static class WinograndeDataset
{
    private const int MinTrailingContext = 3;

    /// <summary>One task as read.</summary>
    public sealed record Item(int Line, string First, string Second, string[] Choices, int Answer);

    /// <summary>Parses the CSV text; a malformed line is an error naming it.</summary>
    public static IReadOnlyList<Item> Parse(string text, string source)
    {
        var items = new List<Item>();
        var lines = DatasetText.Lines(text);
        for (var n = 0; n < lines.Count; n++)
        {
            var line = lines[n];
            if (line.Trim().Length == 0)
                continue;
            var commas = FindCommas(line);
            if (commas.Count != 4)
                throw new EvaluationException($"{source}: line {n + 1}: expected 5 comma-separated fields (index,sentence,choice1,choice2,answer)");
            var sentence = line[commas[0] + 1] == '"'
                ? line.Substring(commas[0] + 2, Math.Max(0, commas[1] - commas[0] - 3))
                : line.Substring(commas[0] + 1, commas[1] - commas[0] - 1);
            var choice1 = line.Substring(commas[1] + 1, commas[2] - commas[1] - 1);
            var choice2 = line.Substring(commas[2] + 1, commas[3] - commas[2] - 1);
            var answerText = line[(commas[3] + 1)..].Trim();
            if (n == 0 && answerText == "answer")
                continue;   // a header row
            var blank = sentence.IndexOf('_');
            if (blank < 0)
                throw new EvaluationException($"{source}: line {n + 1}: the sentence has no '_' to put a choice in");
            if (!int.TryParse(answerText, out var answer) || answer is < 1 or > 2)
                throw new EvaluationException($"{source}: line {n + 1}: the answer must be 1 or 2, got '{answerText}'");
            items.Add(new Item(n + 1, sentence[..blank], sentence[(blank + 1)..], [choice1, choice2], answer));
        }
        if (items.Count == 0)
            throw new EvaluationException($"{source}: no tasks");
        return items;
    }

    /// <summary>The task to score (gold = answer - 1).</summary>
    public static ChoiceTask ToTask(Item item, Func<string, int[]> tokenize)
    {
        var sequences = item.Choices.Select(c => tokenize(item.First + c + item.Second)).ToArray();
        var bases = item.Choices.Select(c => tokenize(item.First + c).Length).ToArray();
        var prefix = 0;
        var min = Math.Min(sequences[0].Length, sequences[1].Length);
        while (prefix < min && sequences[0][prefix] == sequences[1][prefix])
            prefix++;
        var skipChoice = sequences.All(s => s.Length - prefix > MinTrailingContext);
        var candidates = new List<ScoredSequence>(2);
        for (var s = 0; s < 2; s++)
        {
            var from = Math.Max(1, skipChoice ? bases[s] : prefix);
            var last = sequences[s].Length - from > 1 ? 1 : 0;
            candidates.Add(new ScoredSequence(sequences[s], Math.Min(from, sequences[s].Length - 1), sequences[s].Length - last));
        }
        return new ChoiceTask(item.Line, item.Answer - 1, candidates);
    }

    private static List<int> FindCommas(string line)
    {
        var commas = new List<int>(4);
        var quoted = false;
        for (var i = 0; i < line.Length && commas.Count < 4; i++)
        {
            if (line[i] == '"')
                quoted = !quoted;
            else if (line[i] == ',' && !quoted)
                commas.Add(i);
        }
        return commas;
    }
}
