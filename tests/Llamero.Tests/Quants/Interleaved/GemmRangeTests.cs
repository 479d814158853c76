using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Quants.Interleaved;

/// <summary>
/// <see cref="IInterleavedFormat.GemmRange"/> (K-blocking): a row taken in consecutive column ranges, the accumulators carried
/// in the results and the carry between calls, gives the same bits as <c>Gemm</c> over the whole row, on every SIMD path this
/// CPU runs, for every layout that has it.
/// </summary>
public class GemmRangeTests
{
    public static TheoryData<string> Layouts() => InterleavedLayoutTests.Layouts();

    // Range widths in blocks of the format: one block at a time, uneven ranges, and one range for the whole row.
    private static readonly int[][] Splits = [[1], [3, 1, 4, 2, 1], [11]];

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Ranges_give_the_bits_of_the_whole_row(string name)
    {
        var layout = InterleavedLayoutTests.Find(name);
        if (layout.GemmRange is not { } gemmRange)
        {
            Assert.False(layout.HasGemmRange);
            return;
        }
        var blockSize = GgmlTypes.Get(layout.Type).BlockSize;
        var partner = GgmlTypes.Get(QuantFormats.Get(layout.Type).DotPartner);
        var blocks = 11;
        var cols = blocks * blockSize;
        var group = InterleavedLayoutTests.Pack(layout, InterleavedLayoutTests.PlainRows(layout.Type, layout.RowGroup, cols, seed: 5), cols);
        var actBytes = (int)partner.RowBytes(cols);
        var stride = actBytes + 64;
        const int resultStride = 13;
        foreach (var count in new[] { 1, 3, 4, 5, 16, 19 })
        {
            var acts = InterleavedLayoutTests.ActivationRows(layout.Type, count, cols, stride, seed: 90);
            foreach (var level in SimdPath.Supported)
            {
                var whole = new float[(count - 1) * resultStride + layout.RowGroup];
                layout.Gemm(level, group, acts, stride, count, cols, whole, resultStride);
                foreach (var split in Splits)
                {
                    var results = new float[whole.Length];
                    var carry = new float[count * layout.GemmCarry];
                    for (int first = 0, k = 0; first < blocks; k++)
                    {
                        var width = Math.Min(split[k % split.Length], blocks - first);
                        var range = (first == 0 ? RowRange.First : RowRange.Middle) | (first + width == blocks ? RowRange.Last : RowRange.Middle);
                        var weightOffset = (int)(layout.GroupBytes(cols) / blocks * first);
                        var actOffset = (int)partner.RowBytes(first * blockSize);
                        gemmRange(level, group.AsSpan(weightOffset), acts.AsSpan(actOffset), stride, count, width * blockSize, results, resultStride, carry, range);
                        first += width;
                    }
                    for (var i = 0; i < whole.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(results[i]),
                            $"{name} count {count} path {level} split [{string.Join(",", split)}] result {i}: Gemm {whole[i]:R}, ranges {results[i]:R}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void A_carry_too_short_for_the_rows_is_refused(string name)
    {
        var layout = InterleavedLayoutTests.Find(name);
        if (layout.GemmRange is not { } gemmRange || layout.GemmCarry == 0)
            return;
        var cols = 2 * GgmlTypes.Get(layout.Type).BlockSize;
        var group = InterleavedLayoutTests.Pack(layout, InterleavedLayoutTests.PlainRows(layout.Type, layout.RowGroup, cols, seed: 1), cols);
        var actBytes = (int)GgmlTypes.Get(QuantFormats.Get(layout.Type).DotPartner).RowBytes(cols);
        var acts = new byte[2 * actBytes];
        var results = new float[2 * layout.RowGroup];
        var error = Assert.Throws<ArgumentException>(() =>
            gemmRange(SimdPath.Current, group, acts, actBytes, 2, cols, results, layout.RowGroup, new float[layout.GemmCarry], RowRange.First));
        Assert.Contains("carr", error.Message);
    }
}
