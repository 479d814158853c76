namespace Llamero.Evaluation;

/// <summary>
/// llama-perplexity's --hellaswag data: 6 lines per task (activity label + ": " + context; the gold ending's index
/// 0-3; the four endings), as in its hellaswag_val_full.txt. Candidates are "context + ' ' + ending".
/// </summary>
public static class HellaswagDataset
{
    /// <summary>One task as read.</summary>
    public sealed record Item(int Line, string Context, int Gold, string[] Endings);

    /// <summary>Parses the file text; a short last task or a bad gold index is an error naming the line.</summary>
    public static IReadOnlyList<Item> Parse(string text, string source)
    {
        var lines = DatasetText.Lines(text);
        if (lines.Count == 0)
            throw new EvaluationException($"{source}: no tasks");
        if (lines.Count % 6 != 0)
            throw new EvaluationException($"{source}: line {lines.Count / 6 * 6 + 1}: incomplete task: {lines.Count} lines is not a multiple of 6 (context, gold index, 4 endings per task)");
        var items = new List<Item>(lines.Count / 6);
        for (var i = 0; i < lines.Count; i += 6)
        {
            if (!int.TryParse(lines[i + 1].Trim(), out var gold) || gold is < 0 or > 3)
                throw new EvaluationException($"{source}: line {i + 2}: the gold ending index must be 0-3, got '{lines[i + 1]}'");
            items.Add(new Item(i + 1, lines[i], gold, [lines[i + 2], lines[i + 3], lines[i + 4], lines[i + 5]]));
        }
        return items;
    }

    /// <summary>The task to score.</summary>
    public static ChoiceTask ToTask(Item item, Func<string, int[]> tokenize) =>
        ChoiceTask.FromContinuations(item.Line, item.Gold, item.Endings.Select(e => tokenize(item.Context + " " + e)).ToList());
}

/// <summary>Line splitting shared by the text datasets.</summary>
internal static class DatasetText
{
    /// <summary>Lines as std::getline gives them (no empty line after a final newline), without a trailing '\r'.</summary>
    public static List<string> Lines(string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0)
            lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
