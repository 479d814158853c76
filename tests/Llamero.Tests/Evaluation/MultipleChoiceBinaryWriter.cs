using System.Buffers.Binary;
using System.Text;

namespace Llamero.Tests.Evaluation;

/// <summary>
/// Writes llama-perplexity's binary --multiple-choice layout (u32 count, u32 offset per task, then per task a
/// length-prefixed question and two answer lists: u32 n, n length-prefixed strings, n i32 labels), for tests.
/// </summary>
internal static class MultipleChoiceBinaryWriter
{
    /// <summary>One task: the question, the single-correct (mc1) answers with the gold index, and the
    /// multiple-correct (mc2) answers with their labels (llama.cpp reads them and ignores them).</summary>
    internal sealed record Task(string Question, string[] Answers, int Gold, string[]? Mc2 = null, int[]? Mc2Labels = null);

    public static byte[] Write(IReadOnlyList<Task> tasks)
    {
        var bodies = tasks.Select(Body).ToList();
        var output = new MemoryStream();
        WriteUInt32(output, (uint)tasks.Count);
        var offset = 4 + 4 * tasks.Count;
        foreach (var body in bodies)
        {
            WriteUInt32(output, (uint)offset);
            offset += body.Length;
        }
        foreach (var body in bodies)
            output.Write(body);
        return output.ToArray();
    }

    private static byte[] Body(Task task)
    {
        var output = new MemoryStream();
        WriteString(output, task.Question);
        WriteAnswers(output, task.Answers, task.Answers.Select((_, i) => i == task.Gold ? 1 : 0).ToArray());
        WriteAnswers(output, task.Mc2 ?? [], task.Mc2Labels ?? []);
        return output.ToArray();
    }

    private static void WriteAnswers(Stream output, string[] answers, int[] labels)
    {
        WriteUInt32(output, (uint)answers.Length);
        foreach (var answer in answers)
            WriteString(output, answer);
        foreach (var label in labels)
            WriteUInt32(output, (uint)label);
    }

    private static void WriteString(Stream output, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteUInt32(output, (uint)bytes.Length);
        output.Write(bytes);
    }

    private static void WriteUInt32(Stream output, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        output.Write(bytes);
    }
}
