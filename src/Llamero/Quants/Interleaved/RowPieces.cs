using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// The move most eight-row layouts make when a model is packed at load: four-byte piece q of plain row r goes to byte
/// 32q + 4r, so one 32-byte run holds the same piece of all eight rows. With AVX2 four pieces of every row move at
/// once as a 4 x 4 transpose of 32-bit lanes per 128-bit half (rows 0..3 in the low halves, rows 4..7 in the high
/// ones); the packers ran at 3 to 5 GB/s moving piece by piece, which made packing most of a one-thread load.
/// </summary>
internal static class RowPieces
{
    /// <summary>
    /// Pieces 0..3 of the 16 bytes at <paramref name="first"/> + r·<paramref name="stride"/> for rows r = 0..7:
    /// lane r of <paramref name="p0"/> is row r's piece 0 (its bytes 0..3), and so on. AVX2 only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Avx2Transpose4(ref byte first, nint stride, out Vector256<uint> p0, out Vector256<uint> p1,
        out Vector256<uint> p2, out Vector256<uint> p3)
    {
        var a0 = Row2(ref first, stride, 0);
        var a1 = Row2(ref first, stride, 1);
        var a2 = Row2(ref first, stride, 2);
        var a3 = Row2(ref first, stride, 3);
        // [r0.0 r1.0 r0.1 r1.1 | r4.0 r5.0 r4.1 r5.1] and the like, then whole 64-bit pairs of rows.
        var t0 = Avx2.UnpackLow(a0, a1).AsUInt64();
        var t1 = Avx2.UnpackHigh(a0, a1).AsUInt64();
        var t2 = Avx2.UnpackLow(a2, a3).AsUInt64();
        var t3 = Avx2.UnpackHigh(a2, a3).AsUInt64();
        p0 = Avx2.UnpackLow(t0, t2).AsUInt32();
        p1 = Avx2.UnpackHigh(t0, t2).AsUInt32();
        p2 = Avx2.UnpackLow(t1, t3).AsUInt32();
        p3 = Avx2.UnpackHigh(t1, t3).AsUInt32();
    }

    /// <summary>
    /// Interleaves <paramref name="pieces"/> (a multiple of 4) four-byte pieces of eight rows, row r at
    /// <paramref name="first"/> + r·<paramref name="stride"/>: piece q of row r lands at
    /// <paramref name="destination"/> + 32q + 4r. AVX2 when <paramref name="avx2"/>, else piece by piece.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(bool avx2, ref byte first, nint stride, int pieces, ref byte destination)
    {
        if (avx2 && Avx2.IsSupported)
        {
            for (var q = 0; q < pieces; q += 4)
            {
                Avx2Transpose4(ref Unsafe.Add(ref first, 4 * q), stride, out var p0, out var p1, out var p2, out var p3);
                ref var at = ref Unsafe.Add(ref destination, 32 * q);
                Unsafe.WriteUnaligned(ref at, p0);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, 32), p1);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, 64), p2);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, 96), p3);
            }
            return;
        }
        for (var r = 0; r < 8; r++)
        {
            ref var row = ref Unsafe.Add(ref first, r * stride);
            for (var q = 0; q < pieces; q++)
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, 32 * q + 4 * r), Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref row, 4 * q)));
        }
    }

    /// <summary>Eight rows' two-byte words (row r at <paramref name="first"/> + r·<paramref name="stride"/>) to
    /// <paramref name="destination"/> + 2r: the rows' fp16 scales, side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Words(ref byte first, nint stride, ref byte destination)
    {
        for (var r = 0; r < 8; r++)
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, 2 * r), Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref first, r * stride)));
    }

    // Row r's 16 bytes in the low half and row r + 4's in the high half.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Row2(ref byte first, nint stride, int r) =>
        Vector256.Create(Unsafe.ReadUnaligned<Vector128<uint>>(ref Unsafe.Add(ref first, r * stride)),
            Unsafe.ReadUnaligned<Vector128<uint>>(ref Unsafe.Add(ref first, (r + 4) * stride)));
}
