using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Tests.Oracle;

namespace Llamero.Tests.Quants;

/// <summary>
/// Q8_K activation quantization on every path this CPU runs (scalar and eight floats at a time): byte-identical
/// to llama.cpp's quantize_row_q8_K_ref, including ties between opposite signs, NaN and infinite inputs.
/// </summary>
public class Q8KQuantizePathTests
{
    public static TheoryData<SimdLevel> Paths() => new(SimdPath.Supported);

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_path_equals_the_reference(SimdLevel level)
    {
        const int n = 1024;
        var rows = KQuantTestData.RowKinds.Select((kind, i) => KQuantTestData.Row(kind, n, seed: 31 + i)).ToList();
        rows.Add(Special(n, i => i == 700 ? -8f : i == 900 ? 8f : i % 7)); // same magnitude, opposite signs: the first wins
        rows.Add(Special(n, i => i % 97 == 5 ? float.NaN : i * 0.01f)); // NaN never becomes the max
        rows.Add(Special(n, i => i == 300 ? float.PositiveInfinity : 1f)); // an infinite max quantizes the block to NaN codes
        rows.Add(Special(n, i => i % 2 == 0 ? -0f : float.Epsilon)); // signed zeros and subnormals
        foreach (var x in rows)
        {
            var ours = new byte[n / 256 * Q8_K.BlockBytes];
            var theirs = new byte[ours.Length];
            Q8_K.QuantizeWith(level, x, ours);
            GgmlNative.QuantizeRowReference(GgmlType.Q8_K, x, theirs);
            var first = Enumerable.Range(0, ours.Length).FirstOrDefault(i => ours[i] != theirs[i], -1);
            Assert.True(first < 0, $"{level}: byte {first} differs ({ours.ElementAtOrDefault(first)} vs {theirs.ElementAtOrDefault(first)})");
        }
    }

    private static float[] Special(int n, Func<int, float> value) => Enumerable.Range(0, n).Select(value).ToArray();
}
