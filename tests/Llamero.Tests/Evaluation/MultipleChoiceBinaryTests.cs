using System.Buffers.Binary;
using Llamero.Evaluation;
using Llamero.Tests.Support;
using Task = Llamero.Tests.Evaluation.MultipleChoiceBinaryWriter.Task;

namespace Llamero.Tests.Evaluation;

/// <summary>llama-perplexity's binary --multiple-choice format: read like the JSONL of the same items, scored the same,
/// and every malformed file refused with the task and byte offset named.</summary>
public sealed class MultipleChoiceBinaryTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("llamero-mc");

    /// <summary>The tasks of <see cref="DatasetTests.Jsonl"/>, with mc2 lists as the real files carry them.</summary>
    private static readonly Task[] SameAsJsonl =
    [
        new("Lily went to the park. She", ["played with her ball.", "ate the blue sky."], 0, ["played with her ball.", "ran home."], [1, 1]),
        new("Tom was very tired, so he", ["went to the moon.", "sang to the car.", "went to bed."], 2),
        new("Which is a color?", ["dog", "red", "run", "big"], 1, ["red"], [1]),
    ];

    internal static byte[] Sample => MultipleChoiceBinaryWriter.Write(SameAsJsonl);

    [Fact]
    public void Binary_tasks_read_as_the_same_items_as_their_jsonl()
    {
        var binary = MultipleChoiceDataset.Load(Sample, "mc.bin");
        var jsonl = MultipleChoiceDataset.Parse(DatasetTests.Jsonl, "mc.jsonl");
        Assert.Equal(jsonl.Count, binary.Count);
        for (var i = 0; i < jsonl.Count; i++)
        {
            Assert.Equal(i + 1, binary[i].Line);
            Assert.Equal(jsonl[i].Question, binary[i].Question);
            Assert.Equal(jsonl[i].Choices, binary[i].Choices);
            Assert.Equal(jsonl[i].Gold, binary[i].Gold);
        }
    }

    [Fact]
    public void The_format_is_detected_from_the_first_bytes()
    {
        Assert.True(MultipleChoiceBinaryDataset.IsBinary(Sample));
        Assert.False(MultipleChoiceBinaryDataset.IsBinary("{\"question\": 1}"u8));
        Assert.False(MultipleChoiceBinaryDataset.IsBinary("\uFEFF \n{\"question\": 1}"u8));
        Assert.False(MultipleChoiceBinaryDataset.IsBinary(""u8));
        // 123 tasks: the count's first byte is '{', its other three are NUL.
        Assert.True(MultipleChoiceBinaryDataset.IsBinary([(byte)'{', 0, 0, 0]));
        var bomJsonl = MultipleChoiceDataset.Load([.. "\uFEFF"u8, .. System.Text.Encoding.UTF8.GetBytes(DatasetTests.Jsonl)], "bom.jsonl");
        Assert.Equal(3, bomJsonl.Count);
    }

    [Fact]
    public void Eval_scores_a_binary_file_exactly_as_the_same_jsonl_items()
    {
        var binaryPath = Path.Combine(_dir, "mc.bin");
        File.WriteAllBytes(binaryPath, Sample);
        var jsonlPath = Path.Combine(_dir, "mc.jsonl");
        File.WriteAllText(jsonlPath, DatasetTests.Jsonl);
        var fromBinary = Run("eval", "multiple-choice", "-m", TestPaths.Stories260K, "-f", binaryPath);
        var fromJsonl = Run("eval", "multiple-choice", "-m", TestPaths.Stories260K, "-f", jsonlPath);
        Assert.True(fromBinary.Code == 0, fromBinary.Error);
        Assert.True(fromJsonl.Code == 0, fromJsonl.Error);
        Assert.Equal(fromJsonl.Output, fromBinary.Output);
        Assert.Contains("Final (3 tasks): acc = ", fromBinary.Output);
        // --tasks draws the same subset from either file.
        var subsetBinary = Run("eval", "multiple-choice", "-m", TestPaths.Stories260K, "-f", binaryPath, "--tasks", "2");
        var subsetJsonl = Run("eval", "multiple-choice", "-m", TestPaths.Stories260K, "-f", jsonlPath, "--tasks", "2");
        Assert.Equal(subsetJsonl.Output, subsetBinary.Output);
        Assert.Contains("Final (2 tasks)", subsetBinary.Output);
    }

    [Fact]
    public void Binary_tasks_score_exactly_as_their_jsonl_twins()
    {
        // Against llama.cpp: the binary items are among ChoiceScorerTests.SampleTasks.
        using var model = EvaluationModel.Open(TestPaths.Stories260K);
        using var session = model.Model.CreateSession(256);
        var scorer = new ChoiceScorer(session, batchSize: 8);
        var binary = MultipleChoiceDataset.Load(Sample, "mc.bin");
        var jsonl = MultipleChoiceDataset.Parse(DatasetTests.Jsonl, "mc.jsonl");
        for (var i = 0; i < binary.Count; i++)
        {
            var fromBinary = scorer.Score(MultipleChoiceDataset.ToTask(binary[i], model.Tokenize));
            var fromJsonl = scorer.Score(MultipleChoiceDataset.ToTask(jsonl[i], model.Tokenize));
            Assert.Equal(fromJsonl.LogLikelihoods, fromBinary.LogLikelihoods);
            Assert.Equal(fromJsonl.Counts, fromBinary.Counts);
        }
    }

    public static TheoryData<string, string> BadFiles()
    {
        var sample = Sample;
        var task1 = (int)BinaryPrimitives.ReadUInt32LittleEndian(sample.AsSpan(4));
        var task2 = (int)BinaryPrimitives.ReadUInt32LittleEndian(sample.AsSpan(8));
        var task3 = (int)BinaryPrimitives.ReadUInt32LittleEndian(sample.AsSpan(12));
        byte[] With(int offset, uint value)
        {
            var copy = sample.ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(offset), value);
            return copy;
        }
        string Hex(byte[] bytes) => Convert.ToHexString(bytes);
        // Task 2's mc1 list starts after its question: 4 + "Tom was very tired, so he".Length bytes.
        var mc1Of2 = task2 + 4 + 25;
        return new TheoryData<string, string>
        {
            { Hex(sample[..2]), "byte 0: the file ends inside the task count" },
            { Hex(With(0, 0)), "no tasks (the task count at byte 0 is 0)" },
            { Hex(With(0, 0x7FFF_FFFF)), "the task count at byte 0 says 2147483647 tasks, whose offset table needs 8589934592 bytes; the file has" },
            { Hex(With(0, 4)), $"task 1 of 4: the offset table (byte 4) says the task starts at byte {task1}, but it starts at byte 20" },
            { Hex(With(0, 2)), $"task 1 of 2: the offset table (byte 4) says the task starts at byte {task1}, but it starts at byte 12" },
            { Hex(With(8, 99)), $"task 2 of 3: the offset table (byte 8) says the task starts at byte 99, but it starts at byte {task2}" },
            { Hex([.. sample, 0, 0, 0]), $"3 bytes after the last of the 3 tasks (byte {sample.Length})" },
            { Hex(sample[..(task3 + 10)]), $"task 3 at byte {task3}: the question is 17 bytes long, but only 6 bytes are left" },
            { Hex(sample[..^2]), "the file ends inside mc2 label 0 (truncated)" },
            { Hex(With(task2, 0xFFFF_FFF0)), $"task 2 at byte {task2}: the question is 4294967280 bytes long, but only" },
            { Hex(With(task2, 0)), $"task 2 at byte {task2}: the question is empty" },
            { Hex(With(mc1Of2, 101)), $"task 2 at byte {mc1Of2}: mc1 has 101 answers; llama.cpp allows at most 100" },
            { Hex(With(mc1Of2, 90)), $"task 2 at byte {mc1Of2 + 4}: the 90 mc1 answers need at least 720 bytes" },
            { Hex(MultipleChoiceBinaryWriter.Write([new("q", ["a", "b"], 5)])), "task 1 at byte 13: mc1 marks no answer correct" },
            { Hex(MultipleChoiceBinaryWriter.Write([new("q", [], 0)])), "task 1 at byte 13: mc1 has no answers" },
            { Hex(MultipleChoiceBinaryWriter.Write([new("q", ["a", ""], 0)])), "task 1 at byte 13: mc1 answer 1 is empty" },
            { Hex(Labels(MultipleChoiceBinaryWriter.Write([new("q", ["a", "b"], 0, ["a"], [7])]), 1, 1)), "task 1 at byte 13: mc1 marks answers 0 and 1 correct" },
            { Hex(Labels(MultipleChoiceBinaryWriter.Write([new("q", ["a", "b"], 0)]), 0, 7)), "task 1 at byte 13: mc1 label 1 is 7; labels must be 0 or 1" },
            { Hex(BadUtf8(MultipleChoiceBinaryWriter.Write([new("\uFFFD", ["a", "b"], 0)]))), "task 1 at byte 8: the question is not valid UTF-8" },
        };

        // Sets the two mc1 labels of a one-task file (they follow "q" and the answers "a", "b").
        static byte[] Labels(byte[] file, int first, int second)
        {
            var labels = 8 + (4 + 1) + 4 + (4 + 1) * 2;
            var copy = file.ToArray();
            BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(labels), first);
            BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(labels + 4), second);
            return copy;
        }

        static byte[] BadUtf8(byte[] file)
        {
            var copy = file.ToArray();
            copy[12] = 0xFF;   // first byte of the question's three-byte U+FFFD
            return copy;
        }
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_malformed_binary_file_is_refused_naming_the_task_and_byte(string hex, string expected)
    {
        var e = Assert.Throws<EvaluationException>(() => MultipleChoiceBinaryDataset.Parse(Convert.FromHexString(hex), "mc.bin"));
        Assert.StartsWith("mc.bin: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_cli_refuses_a_truncated_binary_file_before_loading_the_model()
    {
        var path = Path.Combine(_dir, "short.bin");
        File.WriteAllBytes(path, Sample[..^2]);
        var (code, output, error) = Run("eval", "multiple-choice", "-m", "/nonexistent/model.gguf", "-f", path);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: " + path + ": task 3 at byte ", error);
        Assert.Contains("the file ends inside mc2 label 0 (truncated)", error);
    }

    [Fact]
    public void Mutated_and_truncated_files_parse_or_fail_cleanly_without_over_allocating()
    {
        var original = MultipleChoiceBinaryWriter.Write([.. SameAsJsonl, .. SameAsJsonl]);
        var random = new Random(7);
        int parsed = 0, refused = 0;
        for (var round = 0; round < 3000; round++)
        {
            var bytes = Mutate(original, random);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                MultipleChoiceDataset.Load(bytes, "fuzz.bin");
                parsed++;
            }
            catch (EvaluationException)
            {
                refused++;
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            // Strings are at most twice their bytes as UTF-16; lists, records and one message on top.
            Assert.True(allocated < 32L * bytes.Length + 32_768, $"round {round}: {allocated} bytes allocated for a {bytes.Length}-byte file");
        }
        Assert.True(parsed > 0 && refused > 0, $"{parsed} parsed, {refused} refused");
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = original.ToArray();
        switch (random.Next(4))
        {
            case 0:
                return bytes[..random.Next(bytes.Length)];
            case 1:
                for (var i = random.Next(1, 4); i > 0; i--)
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            case 2:
                // A length-sized field set to something large, small or absurd.
                var at = random.Next(bytes.Length / 4) * 4;
                uint[] values = [0, 1, 2, 100, 101, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, (uint)random.Next()];
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), values[random.Next(values.Length)]);
                return bytes;
            default:
                // Most of the mutations leave the file valid but for one flipped bit.
                bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
        }
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => Gguf.CliRunner.Run(args);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
