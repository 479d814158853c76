using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants.Interleaved;

// The portable path (SSE, NEON, or any Vector128 hardware; the Vector256 level runs it too): the integer sums of
// the scalar kernel, sixteen bytes (four weights of four rows) at a time in int16 lanes, inside its float steps.
internal sealed partial class Q4_Kx8
{
    /// <summary>One int32 vector (four weight positions) per weight row.</summary>
    [InlineArray(Rows)]
    private struct RowSums
    {
        private Vector128<int> _element0;
    }

    /// <summary>
    /// <c>sumi[r] += Σ_j scale_j · Σ_k level·q8</c> for one activation row: per sub-block, each unit load widened to int16
    /// and multiplied by the unit's four activations (|15·128| per product, eight per lane: fits int16); each
    /// sub-block's sums scaled into int32 lanes, summed across lanes once per super-block.
    /// </summary>
    private static void LevelSumsPortable(ref byte wb, ref byte ab, ReadOnlySpan<byte> scales, Span<int> sumi)
    {
        var mask = Vector128.Create((byte)0x0F);
        RowSums rows = default;
        for (var j = 0; j < 8; j++)
        {
            ref var q = ref Unsafe.Add(ref wb, QsOffset + 256 * (j >> 1));
            ref var act = ref Unsafe.Add(ref ab, Q8_K.QsOffset + 32 * j);
            Vector128<short> p01 = default, p23 = default, p45 = default, p67 = default;
            for (var u = 0; u < 8; u++)
            {
                var bits0 = Vector128.LoadUnsafe(ref q, (nuint)(32 * u));
                var bits1 = Vector128.LoadUnsafe(ref q, (nuint)(32 * u + 16));
                var levels0 = (j & 1) == 0 ? bits0 & mask : Vector128.ShiftRightLogical(bits0, 4);
                var levels1 = (j & 1) == 0 ? bits1 & mask : Vector128.ShiftRightLogical(bits1, 4);
                // The unit's four activations as int16 (64 bits), in both halves.
                var run = Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref act, 4 * u));
                var a = Vector128.Create(Vector128.WidenLower(Vector128.CreateScalar(run).AsSByte()).AsInt64().ToScalar()).AsInt16();
                p01 += Vector128.WidenLower(levels0).AsInt16() * a;
                p23 += Vector128.WidenUpper(levels0).AsInt16() * a;
                p45 += Vector128.WidenLower(levels1).AsInt16() * a;
                p67 += Vector128.WidenUpper(levels1).AsInt16() * a;
            }
            Scale(ref rows, p01, 0, j, scales);
            Scale(ref rows, p23, 2, j, scales);
            Scale(ref rows, p45, 4, j, scales);
            Scale(ref rows, p67, 6, j, scales);
        }
        for (var r = 0; r < Rows; r++)
            sumi[r] += Vector128.Sum(rows[r]);
    }

    /// <summary>Rows <paramref name="r"/> and r + 1 (four int16 lanes each) times their sub-block scale into their int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scale(ref RowSums rows, Vector128<short> pair, int r, int j, ReadOnlySpan<byte> scales)
    {
        rows[r] += Vector128.WidenLower(pair) * Vector128.Create((int)scales[8 * r + j]);
        rows[r + 1] += Vector128.WidenUpper(pair) * Vector128.Create((int)scales[8 * (r + 1) + j]);
    }
}
