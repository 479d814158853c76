using System.Buffers.Binary;
using System.Text;

namespace Llamero.Evaluation;

/// <summary>
/// llama-perplexity's binary <c>--multiple-choice</c> data (the ARC, MMLU, TruthfulQA and HellaSwag files of
/// ikawrakow/validation-datasets-for-llama.cpp). Little-endian throughout:
/// <code>
/// u32 n_task
/// u32 task_pos[n_task]                 byte offset of each task from the start of the file
/// per task:
///   string question                    u32 length, then that many UTF-8 bytes
///   answers mc1                        single correct answer: the candidates scored
///   answers mc2                        several correct answers: read and checked, not scored (as llama.cpp)
/// answers: u32 n (at most 100), n strings, then n i32 labels (1 = correct, 0 = not)
/// </code>
/// llama.cpp reads the tasks one after another when it evaluates all of them and seeks to task_pos[i] when it
/// draws a subset, so both must agree: an offset that does not point at its task, or bytes after the last task, is
/// an error. Every length is checked against the bytes left before anything is allocated.
/// </summary>
public static class MultipleChoiceBinaryDataset
{
    /// <summary>llama.cpp's limit on the answers of one task.</summary>
    public const int MaxAnswers = 100;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Whether <paramref name="data"/> is the binary format rather than JSONL: JSONL starts (after an optional BOM and
    /// white space) with '{' and holds no NUL byte in its first four; the binary count of any real file has one.
    /// </summary>
    public static bool IsBinary(ReadOnlySpan<byte> data)
    {
        var head = data[..Math.Min(4, data.Length)];
        if (head.Contains((byte)0))
            return true;
        var text = data.StartsWith("\uFEFF"u8) ? data[3..] : data;
        var i = 0;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            i++;
        return i < text.Length && text[i] != (byte)'{';
    }

    /// <summary>Reads every task; the item's <c>Line</c> is the 1-based task number. Bad input throws
    /// <see cref="EvaluationException"/> naming the task and the byte offset.</summary>
    public static IReadOnlyList<MultipleChoiceDataset.Item> Parse(ReadOnlySpan<byte> data, string source)
    {
        var reader = new Reader(data, source);
        var count = reader.UInt32("the task count", task: 0);
        if (count == 0)
            throw new EvaluationException($"{source}: no tasks (the task count at byte 0 is 0)");
        // The offset table alone must fit before it is read (or anything is sized from the count).
        if (4 + 4L * count > data.Length)
            throw new EvaluationException($"{source}: the task count at byte 0 says {count} tasks, whose offset table needs {4 + 4L * count} bytes; the file has {data.Length}");
        reader.Skip(4L * count);
        var items = new List<MultipleChoiceDataset.Item>();
        for (var t = 1; t <= count; t++)
        {
            var tableOffset = 4 + 4 * (t - 1);
            var declared = BinaryPrimitives.ReadUInt32LittleEndian(data[tableOffset..]);
            if (declared != reader.Offset)
            {
                throw new EvaluationException(reader.Offset >= data.Length
                    ? $"{source}: task {t} of {count}: the file ends at byte {data.Length}, before this task (fewer tasks than the count says)"
                    : $"{source}: task {t} of {count}: the offset table (byte {tableOffset}) says the task starts at byte {declared}, but it starts at byte {reader.Offset}");
            }
            items.Add(ReadTask(ref reader, t));
        }
        if (reader.Offset != data.Length)
            throw new EvaluationException($"{source}: {data.Length - reader.Offset} bytes after the last of the {count} tasks (byte {reader.Offset}): more data than the task count says");
        return items;
    }

    private static MultipleChoiceDataset.Item ReadTask(ref Reader reader, int task)
    {
        var start = reader.Offset;
        var question = reader.String("the question", task);
        if (question.Length == 0)
            throw reader.Error(task, start, "the question is empty");
        var (answers, labels, answersAt) = ReadAnswers(ref reader, task, "mc1");
        ReadAnswers(ref reader, task, "mc2");
        if (answers.Length == 0)
            throw reader.Error(task, answersAt, "mc1 has no answers");
        if (Array.IndexOf(answers, "") is var empty and >= 0)
            throw reader.Error(task, answersAt, $"mc1 answer {empty} is empty");
        var gold = -1;
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] is not (0 or 1))
                throw reader.Error(task, answersAt, $"mc1 label {i} is {labels[i]}; labels must be 0 or 1");
            if (labels[i] == 1)
            {
                if (gold >= 0)
                    throw reader.Error(task, answersAt, $"mc1 marks answers {gold} and {i} correct; it holds exactly one correct answer");
                gold = i;
            }
        }
        if (gold < 0)
            throw reader.Error(task, answersAt, "mc1 marks no answer correct");
        return new MultipleChoiceDataset.Item(task, question, answers, gold);
    }

    private static (string[] Answers, int[] Labels, long At) ReadAnswers(ref Reader reader, int task, string name)
    {
        var at = reader.Offset;
        var n = reader.UInt32($"the {name} answer count", task);
        if (n > MaxAnswers)
            throw reader.Error(task, at, $"{name} has {n} answers; llama.cpp allows at most {MaxAnswers}");
        // Each answer needs at least its 4-byte length and its 4-byte label.
        reader.Need(8L * n, task, $"the {n} {name} answers");
        var answers = new string[n];
        for (var i = 0; i < n; i++)
            answers[i] = reader.String($"{name} answer {i}", task);
        var labels = new int[n];
        for (var i = 0; i < n; i++)
            labels[i] = (int)reader.UInt32($"{name} label {i}", task);
        return (answers, labels, at);
    }

    /// <summary>A cursor over the file that checks every read against the bytes left.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data, string source)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public long Offset { get; private set; }

        public readonly EvaluationException Error(int task, long offset, string problem) =>
            new(task == 0 ? $"{source}: byte {offset}: {problem}" : $"{source}: task {task} at byte {offset}: {problem}");

        public readonly void Need(long bytes, int task, string what)
        {
            if (bytes > _data.Length - Offset)
                throw Error(task, Offset, $"{what} need at least {bytes} bytes, only {_data.Length - Offset} are left: the file is truncated or the count is wrong");
        }

        public void Skip(long bytes) => Offset += bytes;

        public uint UInt32(string what, int task)
        {
            if (_data.Length - Offset < 4)
                throw Error(task, Offset, $"the file ends inside {what} (truncated)");
            var value = BinaryPrimitives.ReadUInt32LittleEndian(_data[(int)Offset..]);
            Offset += 4;
            return value;
        }

        public string String(string what, int task)
        {
            var at = Offset;
            var length = UInt32($"the length of {what}", task);
            if (length > _data.Length - Offset)
                throw Error(task, at, $"{what} is {length} bytes long, but only {_data.Length - Offset} bytes are left (truncated, or not a length)");
            var bytes = _data.Slice((int)Offset, (int)length);
            Offset += length;
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Error(task, at, $"{what} is not valid UTF-8");
            }
        }
    }
}
