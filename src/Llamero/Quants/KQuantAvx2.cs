using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

/// <summary>AVX2 helpers of the 512-bit K-quant kernels.</summary>
internal static class KQuantAvx2
{
    /// <summary>Σ_g coefficient_g · bsum_g of a Q8_K block as eight int32 lanes (16 signed byte coefficients).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> GroupSums(ref byte q8Block, Vector128<sbyte> coefficients)
    {
        var bsums = Vector256.LoadUnsafe(ref Unsafe.As<byte, short>(ref Unsafe.Add(ref q8Block, Q8_K.BSumsOffset)));
        return Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(coefficients), bsums);
    }
}
