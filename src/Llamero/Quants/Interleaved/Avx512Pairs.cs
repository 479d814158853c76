using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// The register layout of the AVX-512 Gemm kernels: a 512-bit vector holds two activation rows against the eight
/// weight rows, dword <c>2r</c> = weight row r · activation row b and <c>2r + 1</c> = weight row r · activation row
/// b + 1. Each dword lane then runs exactly the integer and float steps of the AVX2 kernel's lane r for its activation
/// row, so the results are bit-identical to it. Weight vectors (one dword per row) are spread to both dwords of their
/// row once per block and serve every pair; the two activation rows are interleaved dword by dword into a small
/// buffer, where each 4-byte run of both rows is one 8-byte broadcast (a load, no shuffle) per multiply.
/// </summary>
internal static class Avx512Pairs
{
    /// <summary>Activation-row pairs whose accumulators one Gemm pass keeps (<see cref="Avx512Accumulators"/>).</summary>
    public const int MaxPairs = 8;

    /// <summary>vpermd control that puts dword r of the low half in dwords 2r and 2r + 1.</summary>
    private static Vector512<int> SpreadControl
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    }

    /// <summary>vpermd control that puts dword r of the high half in dwords 2r and 2r + 1.</summary>
    private static Vector512<int> SpreadHighControl
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    }

    /// <summary>vpermd control that gathers the even dwords (activation row b) low and the odd ones (row b + 1) high.</summary>
    private static Vector512<int> SplitControl
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    }

    /// <summary>vpermd control that interleaves the low half (even dwords) with the high half (odd dwords).</summary>
    private static Vector512<int> MergeControl
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    }

    /// <summary>Row r's dword of <paramref name="rows"/> in dwords 2r and 2r + 1 (both activation rows of a pair).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Spread<TOps>(Vector256<int> rows) where TOps : struct, IAvx512Ops =>
        TOps.Permute(rows.ToVector512Unsafe(), SpreadControl);

    /// <summary>Two 32-byte runs of row dwords (at <paramref name="source"/>, +32) spread as by <see cref="Spread{TOps}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SpreadTwo<TOps>(ref byte source, out Vector512<byte> first, out Vector512<byte> second) where TOps : struct, IAvx512Ops
    {
        var both = Vector512.LoadUnsafe(ref source).AsInt32();
        first = TOps.Permute(both, SpreadControl).AsByte();
        second = TOps.Permute(both, SpreadHighControl).AsByte();
    }

    /// <summary>Stores a pair's results: activation row b's eight at <paramref name="first"/>, row b + 1's at <paramref name="second"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TOps>(Vector512<float> pair, ref float first, ref float second) where TOps : struct, IAvx512Ops
    {
        var split = TOps.Permute(pair.AsInt32(), SplitControl).AsSingle();
        split.GetLower().StoreUnsafe(ref first);
        split.GetUpper().StoreUnsafe(ref second);
    }

    /// <summary>The inverse of <see cref="Store{TOps}"/>: activation row b's eight floats at <paramref name="first"/> in the even
    /// dwords, row b + 1's at <paramref name="second"/> in the odd ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load<TOps>(ref float first, ref float second) where TOps : struct, IAvx512Ops =>
        TOps.Permute(Vector512.Create(Vector256.LoadUnsafe(ref first), Vector256.LoadUnsafe(ref second)).AsInt32(), MergeControl).AsSingle();

    /// <summary>
    /// Interleaves <paramref name="chunks"/> 64-byte runs of two rows dword by dword into <paramref name="destination"/>
    /// (128 bytes per run): unit u (bytes 4u..4u+3) of both rows lands as one 8-byte pair at <see cref="Slot"/>(u).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave<TOps>(ref byte rowA, ref byte rowB, int chunks, ref byte destination) where TOps : struct, IAvx512Ops
    {
        for (nint k = 0; k < chunks; k++)
        {
            var a = Vector512.LoadUnsafe(ref rowA, (nuint)(64 * k)).AsInt32();
            var b = Vector512.LoadUnsafe(ref rowB, (nuint)(64 * k)).AsInt32();
            TOps.UnpackLow(a, b).AsByte().StoreUnsafe(ref destination, (nuint)(128 * k));
            TOps.UnpackHigh(a, b).AsByte().StoreUnsafe(ref destination, (nuint)(128 * k + 64));
        }
    }

    /// <summary>
    /// <see cref="Interleave{TOps}"/> of one 32-byte run (units 0..7; it reads only 32 bytes of each row and writes 128).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InterleaveHalf<TOps>(ref byte rowA, ref byte rowB, ref byte destination) where TOps : struct, IAvx512Ops
    {
        // The unpacks work per 128-bit lane, so lanes 0 and 1 hold units 0..7; lanes 2, 3 are never read.
        var a = Vector256.LoadUnsafe(ref rowA).AsInt32().ToVector512Unsafe();
        var b = Vector256.LoadUnsafe(ref rowB).AsInt32().ToVector512Unsafe();
        TOps.UnpackLow(a, b).AsByte().StoreUnsafe(ref destination);
        TOps.UnpackHigh(a, b).AsByte().StoreUnsafe(ref destination, 64);
    }

    /// <summary>
    /// Byte offset of unit u's pair in an interleaved run: vpunpckldq puts units 4L, 4L + 1 of 128-bit lane L at
    /// 16L, 16L + 8 and vpunpckhdq units 4L + 2, 4L + 3 at 64 + 16L (+8), per 64-byte run of the rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(int unit) => 128 * (unit >> 4) + 64 * ((unit >> 1) & 1) + 16 * ((unit >> 2) & 3) + 8 * (unit & 1);

    /// <summary>vpmaddubsw of the unsigned weight vector at slot <paramref name="slot"/> of <paramref name="weights"/> with the
    /// activation pair at slot <paramref name="slot"/> (byte 8·slot) of <paramref name="pairs"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> MultiplyAddAt<TOps>(ref Vector512<byte> weights, ref byte pairs, nint slot) where TOps : struct, IAvx512Ops =>
        TOps.MultiplyAddAdjacent(Unsafe.Add(ref weights, slot), Broadcast(ref pairs, 8 * slot).AsSByte());

    /// <summary>The 8-byte pair at <paramref name="offset"/> in all eight qwords (row b's 4 bytes in even dwords, row b + 1's in odd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<long> Broadcast(ref byte pairs, nint offset) =>
        Vector512.Create(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref pairs, offset)));

    /// <summary>Two floats as one pair in every qword: <paramref name="first"/> in even dwords, <paramref name="second"/> in odd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FloatPair(float first, float second) =>
        Vector512.Create((long)(uint)BitConverter.SingleToInt32Bits(first) | ((long)BitConverter.SingleToInt32Bits(second) << 32)).AsSingle();
}

/// <summary>The float accumulators of up to eight activation-row pairs (a 16-row tile) of an AVX-512 Gemm pass.</summary>
[InlineArray(Avx512Pairs.MaxPairs)]
internal struct Avx512Accumulators
{
    private Vector512<float> _element0;
}

/// <summary>One 32-byte run (a Q8_0 block's quants) of two activation rows, interleaved by <see cref="Avx512Pairs.InterleaveHalf{TOps}"/>.</summary>
[InlineArray(2)]
internal struct Avx512HalfPair
{
    private Vector512<byte> _element0;
}
