using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

/// <summary>AVX2 building blocks shared by the K-quant dot kernels whose scales are signed bytes per 16 weights.</summary>
internal static class KQuantAvx2
{
    /// <summary>
    /// 32 unsigned levels (≤ 127) against activations 32·g .. 32·g+31, scaled by 16-weight groups 2g and 2g+1 of
    /// <paramref name="scales8"/>: eight int32 partial sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> ScaledGroupPair(Vector256<byte> levels, ref byte q8, Vector128<sbyte> scales8, int g)
    {
        var act = Vector256.LoadUnsafe(ref q8, (nuint)(32 * g)).AsSByte();
        // Bytes 2g (×8) then 2g+1 (×8), widened to int16 lanes matching maddubs' pair sums.
        var lo = (byte)(2 * g);
        var hi = (byte)(2 * g + 1);
        var pick = Vector128.Create(lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi);
        var scale = Avx2.ConvertToVector256Int16(Ssse3.Shuffle(scales8, pick.AsSByte()));
        return Avx2.MultiplyAddAdjacent(scale, Avx2.MultiplyAddAdjacent(levels, act));
    }

    /// <summary>Σ_g coefficient_g · bsum_g of a Q8_K block as eight int32 lanes (16 signed byte coefficients).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> GroupSums(ref byte q8Block, Vector128<sbyte> coefficients)
    {
        var bsums = Vector256.LoadUnsafe(ref Unsafe.As<byte, short>(ref Unsafe.Add(ref q8Block, Q8_K.BSumsOffset)));
        return Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(coefficients), bsums);
    }

    /// <summary>The two bits at <paramref name="shift"/> of every byte (byte shifts done on 16-bit lanes, then masked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> TwoBits(Vector256<byte> bits, [ConstantExpected(Max = (byte)6)] byte shift) =>
        Avx2.ShiftRightLogical(bits.AsUInt16(), shift).AsByte() & Vector256.Create((byte)3);
}
