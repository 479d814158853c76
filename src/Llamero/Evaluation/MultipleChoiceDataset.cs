using System.Text;
using System.Text.Json;

namespace Llamero.Evaluation;

/// <summary>
/// Multiple-choice tasks (ARC, MMLU, TruthfulQA mc1, HellaSwag...) as lm-evaluation-harness-style JSONL, one task per
/// line: the prompt in "question" (or "context", "ctx", "query"), the candidates in "choices" (or "endings"; an array
/// of strings, or {"text": [...], "label": [...]} as the Hugging Face ARC files have), the right one in "label"
/// (or "gold", "answer", "answerKey"): an index, or a label such as "B". Candidates are "question + ' ' + choice",
/// scored like llama-perplexity's --multiple-choice. <see cref="Load"/> also reads llama.cpp's binary format
/// (<see cref="MultipleChoiceBinaryDataset"/>).
/// </summary>
public static class MultipleChoiceDataset
{
    private static readonly string[] PromptKeys = ["question", "context", "ctx", "query"];
    private static readonly string[] ChoiceKeys = ["choices", "endings"];
    private static readonly string[] LabelKeys = ["label", "gold", "answer", "answerKey"];

    /// <summary>One task as read; <paramref name="Line"/> is its line in JSONL, its 1-based number in the binary format.</summary>
    public sealed record Item(int Line, string Question, string[] Choices, int Gold);

    /// <summary>Reads a dataset file's bytes: llama.cpp's binary format or JSONL, told apart by
    /// <see cref="MultipleChoiceBinaryDataset.IsBinary"/>.</summary>
    public static IReadOnlyList<Item> Load(byte[] data, string source)
    {
        if (MultipleChoiceBinaryDataset.IsBinary(data))
            return MultipleChoiceBinaryDataset.Parse(data, source);
        try
        {
            var text = data.AsSpan(data.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0);
            return Parse(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(text), source);
        }
        catch (DecoderFallbackException)
        {
            throw new EvaluationException($"{source}: neither llama.cpp's binary multiple-choice format nor UTF-8 JSONL");
        }
    }

    /// <summary>Parses the JSONL text; a malformed line is an error naming it.</summary>
    public static IReadOnlyList<Item> Parse(string text, string source)
    {
        var items = new List<Item>();
        var lines = DatasetText.Lines(text);
        for (var n = 0; n < lines.Count; n++)
        {
            if (lines[n].Trim().Length == 0)
                continue;
            try
            {
                items.Add(ParseLine(lines[n], n + 1));
            }
            catch (JsonException e)
            {
                throw new EvaluationException($"{source}: line {n + 1}: not a JSON object ({e.Message})");
            }
            catch (FormatException e)
            {
                throw new EvaluationException($"{source}: line {n + 1}: {e.Message}");
            }
        }
        if (items.Count == 0)
            throw new EvaluationException($"{source}: no tasks");
        return items;
    }

    /// <summary>The task to score.</summary>
    public static ChoiceTask ToTask(Item item, Func<string, int[]> tokenize) =>
        ChoiceTask.FromContinuations(item.Line, item.Gold, item.Choices.Select(c => tokenize(item.Question + " " + c)).ToList());

    private static Item ParseLine(string line, int number)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new FormatException("expected a JSON object");
        var question = Find(root, PromptKeys) is { ValueKind: JsonValueKind.String } q
            ? q.GetString()!
            : throw new FormatException($"no prompt: expected a string in one of {string.Join(", ", PromptKeys)}");
        if (question.Length == 0)
            throw new FormatException("the prompt is empty");

        string[] choices;
        string[]? labels = null;
        switch (Find(root, ChoiceKeys))
        {
            case { ValueKind: JsonValueKind.Array } array:
                choices = Strings(array, "choices");
                break;
            case { ValueKind: JsonValueKind.Object } obj when obj.TryGetProperty("text", out var texts):
                choices = Strings(texts, "choices.text");
                if (obj.TryGetProperty("label", out var labelArray))
                    labels = Strings(labelArray, "choices.label");
                break;
            default:
                throw new FormatException($"no candidates: expected an array of strings in one of {string.Join(", ", ChoiceKeys)}");
        }
        if (choices.Length < 2)
            throw new FormatException($"a task needs at least 2 choices, this one has {choices.Length}");
        if (choices.Any(c => c.Length == 0))
            throw new FormatException("a choice is empty");

        var gold = Find(root, LabelKeys) switch
        {
            { ValueKind: JsonValueKind.Number } num when num.TryGetInt32(out var index) => index,
            { ValueKind: JsonValueKind.String } str => LabelIndex(str.GetString()!, labels),
            _ => throw new FormatException($"no answer: expected an index or a label in one of {string.Join(", ", LabelKeys)}"),
        };
        if (gold < 0 || gold >= choices.Length)
            throw new FormatException($"the answer index {gold} is outside the {choices.Length} choices");
        return new Item(number, question, choices, gold);
    }

    private static int LabelIndex(string label, string[]? labels)
    {
        if (labels is not null && Array.IndexOf(labels, label) is var at and >= 0)
            return at;
        if (int.TryParse(label, out var index))
            return index;
        if (label.Length == 1 && char.IsAsciiLetterUpper(label[0]))
            return label[0] - 'A';
        throw new FormatException($"the answer '{label}' is neither an index nor one of the choice labels");
    }

    private static JsonElement? Find(JsonElement root, string[] keys)
    {
        foreach (var key in keys)
        {
            if (root.TryGetProperty(key, out var value))
                return value;
        }
        return null;
    }

    private static string[] Strings(JsonElement array, string what)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new FormatException($"{what} must be an array of strings");
        return array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw new FormatException($"{what} must hold strings only")).ToArray();
    }
}
