using Llamero.Tests.Support;

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
}
