using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants.Interleaved;

// The portable path (SSE, NEON, or any Vector128 hardware; the Vector256 level runs it too): the integer sums of
// the scalar kernel, sixteen bytes (four weights of four rows) at a time in int16 lanes, with its float steps.
internal sealed partial class Q4_Kx8
{
    private static void GemvPortable(ref byte w, ref byte a, int blocks, ref float results) => GemvRows(true, ref w, ref a, blocks, ref results);

    /// <summary>
    /// <see cref="LevelSumsScalar"/> with Vector128: per sub-block and half group (rows 4h..4h+3), eight unit loads
    /// widened to int16 and multiplied by the unit's four activations (|15·128| per product, eight per lane: fits int16).
    /// </summary>
    private static void LevelSumsPortable(ref byte wb, ref byte ab, ReadOnlySpan<byte> scales, Span<int> sumi)
    {
        var mask = Vector128.Create((byte)0x0F);
        ref var q8 = ref Unsafe.Add(ref ab, Q8_K.QsOffset);
        for (var j = 0; j < 8; j++)
        {
            ref var q = ref Unsafe.Add(ref wb, QsOffset + 256 * (j >> 1));
            for (var h = 0; h < 2; h++)
            {
                Vector128<short> pair01 = default, pair23 = default;
                for (var u = 0; u < 8; u++)
                {
                    var bits = Vector128.LoadUnsafe(ref q, (nuint)(32 * u + 16 * h));
                    var levels = (j & 1) == 0 ? bits & mask : Vector128.ShiftRightLogical(bits, 4);
                    var run = Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref q8, 32 * j + 4 * u)))
                        .AsSByte());
                    var act = Vector128.Shuffle(run, Vector128.Create((short)0, 1, 2, 3, 0, 1, 2, 3));
                    pair01 += Vector128.WidenLower(levels).AsInt16() * act;
                    pair23 += Vector128.WidenUpper(levels).AsInt16() * act;
                }
                AddRows(pair01, 4 * h, j, scales, sumi);
                AddRows(pair23, 4 * h + 2, j, scales, sumi);
            }
        }
    }

    /// <summary>Rows <paramref name="row"/> and row + 1 (four int16 lanes each) scaled into their sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRows(Vector128<short> pair, int row, int j, ReadOnlySpan<byte> scales, Span<int> sumi)
    {
        sumi[row] += scales[8 * row + j] * Vector128.Sum(Vector128.WidenLower(pair));
        sumi[row + 1] += scales[8 * (row + 1) + j] * Vector128.Sum(Vector128.WidenUpper(pair));
    }
}
