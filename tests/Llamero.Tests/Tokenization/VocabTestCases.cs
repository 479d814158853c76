using System.Text;
using Llamero.Tests.Support;
using Llamero.Tokenization;

namespace Llamero.Tests.Tokenization;

/// <summary>llama.cpp's tokenizer golden files: <c>X.gguf.inp</c> (inputs) and <c>X.gguf.out</c> (expected ids).</summary>
internal static class VocabTestCases
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    /// <summary>The (input, expected ids) pairs of <c>llama-cpp-vocab/{name}.inp/.out</c>.</summary>
    public static IReadOnlyList<(string Input, int[] Expected)> Load(string name)
    {
        var inp = File.ReadAllText(TestPaths.Shared("llama-cpp-vocab", name + ".inp"));
        var outLines = File.ReadAllText(TestPaths.Shared("llama-cpp-vocab", name + ".out")).Split('\n');
        var inputs = inp.Split(Separator);
        Assert.Equal("", inputs[^1]); // the file ends with a separator
        var cases = new List<(string, int[])>();
        for (var i = 0; i < inputs.Length - 1; i++)
        {
            var ids = outLines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            cases.Add((inputs[i], ids));
        }
        return cases;
    }

    /// <summary>Encodes every case of <paramref name="name"/> without BOS or special parsing and asserts llama.cpp's ids.</summary>
    public static void AssertAllMatch(Tokenizer tokenizer, string name)
    {
        var cases = Load(name);
        Assert.Equal(46, cases.Count);
        var failures = new List<string>();
        foreach (var (input, expected) in cases)
        {
            var actual = tokenizer.Encode(input, addSpecial: false);
            if (!actual.SequenceEqual(expected))
                failures.Add($"'{input}': expected [{string.Join(' ', expected)}] got [{string.Join(' ', actual)}]");
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    /// <summary>Decodes <paramref name="ids"/> one at a time through a streaming decoder, then flushes.</summary>
    public static string StreamDecode(Tokenizer tokenizer, IEnumerable<int> ids, bool stripLeadingSpace = false)
    {
        var decoder = tokenizer.CreateStreamingDecoder(stripLeadingSpace);
        var text = new StringBuilder();
        foreach (var id in ids)
            text.Append(decoder.Append(id));
        return text.Append(decoder.Flush()).ToString();
    }
}
