using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

// Fast Q5_K·Q8_K paths: Q4_K's kernels with the fifth bit OR-ed into each nibble. Integer sums are exact;
// only the float scaling order differs from the reference.
public sealed partial class Q5_K
{
    static float IKQuantKernels.DotAvx2(ref byte x, ref byte y, int blocks) => DotAvx2Kernel(ref x, ref y, blocks);

    private static float DotAvx2Kernel(ref byte x, ref byte y, int blocks)
    {
        var acc = Vector256<float>.Zero;
        var accMin = Vector128<float>.Zero;
        for (nint i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            var dy = Unsafe.ReadUnaligned<float>(ref yb);
            var d = KQuantHelpers.ReadHalf(ref xb, 0) * dy;
            var scales = Q4_K.ScalesAndMinsAvx2(ref xb, ref yb, -KQuantHelpers.ReadHalf(ref xb, 2) * dy, ref accMin);
            ref var q4 = ref Unsafe.Add(ref xb, QsOffset);
            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            // High bits: bit 0 of each byte for the low nibbles of the current chunk, bit 1 for the high ones;
            // shifted down two bits per chunk (bits crossing bytes never reach bits 0..1 in four chunks).
            var high = Vector256.LoadUnsafe(ref xb, QhOffset).AsUInt16();
            var sumi = Vector256<int>.Zero;
            for (var j = 0; j < 4; j++)
            {
                var bits = Vector256.LoadUnsafe(ref q4, (nuint)(32 * j));
                var bit4 = Vector256.Create((byte)0x10);
                var lo = (bits & Vector256.Create((byte)0x0F)) | (Avx2.ShiftLeftLogical(high, 4).AsByte() & bit4);
                var hi = (Avx2.ShiftRightLogical(bits.AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F)) | (Avx2.ShiftLeftLogical(high, 3).AsByte() & bit4);
                high = Avx2.ShiftRightLogical(high, 2);
                var (scaleLo, scaleHi) = Q4_K.ScalePair(scales, j);
                var actLo = Vector256.LoadUnsafe(ref q8, (nuint)(64 * j)).AsSByte();
                var actHi = Vector256.LoadUnsafe(ref q8, (nuint)(64 * j + 32)).AsSByte();
                sumi += Avx2.MultiplyAddAdjacent(scaleLo, Avx2.MultiplyAddAdjacent(lo, actLo))
                      + Avx2.MultiplyAddAdjacent(scaleHi, Avx2.MultiplyAddAdjacent(hi, actHi));
            }
            acc = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(sumi), acc);
        }
        return Vector256.Sum(acc) + Vector128.Sum(accMin);
    }

    /// <summary>No 512-bit kernel yet: AVX-512 machines run the AVX2 one.</summary>
    static float IKQuantKernels.DotAvx512(ref byte x, ref byte y, int blocks) => DotAvx2Kernel(ref x, ref y, blocks);

    static float IKQuantKernels.DotPortable(bool wide, ref byte x, ref byte y, int blocks)
    {
        KQuantPortable.Weights256 w = default;
        KQuantPortable.Scales16 scales = default;
        KQuantPortable.Scales16 mins = default;
        float sum = 0;
        for (nint i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            Q4_K.ScalesAndMinsPortable(ref xb, ref scales, ref mins);
            ref var wb = ref Unsafe.As<KQuantPortable.Weights256, byte>(ref w);
            var low4 = Vector128.Create((byte)0x0F);
            var bit4 = Vector128.Create((byte)0x10);
            for (nuint part = 0; part < 2; part++)
            {
                var high = Vector128.LoadUnsafe(ref xb, QhOffset + 16 * part);
                for (nuint chunk = 0; chunk < 4; chunk++)
                {
                    var bits = Vector128.LoadUnsafe(ref xb, QsOffset + 32 * chunk + 16 * part);
                    ((bits & low4) | (Vector128.ShiftLeft(high, 4) & bit4)).StoreUnsafe(ref wb, 64 * chunk + 16 * part);
                    (Vector128.ShiftRightLogical(bits, 4) | (Vector128.ShiftLeft(high, 3) & bit4)).StoreUnsafe(ref wb, 64 * chunk + 32 + 16 * part);
                    high = Vector128.ShiftRightLogical(high, 2);
                }
            }
            var isum = KQuantPortable.ScaledBlockDot(wide, ref w[0], ref KQuantPortable.Quants(ref yb), ref scales);
            var msum = KQuantPortable.GroupSums(ref yb, ref mins);
            var dy = Unsafe.ReadUnaligned<float>(ref yb);
            sum += KQuantHelpers.ReadHalf(ref xb, 0) * dy * isum - KQuantHelpers.ReadHalf(ref xb, 2) * dy * msum;
        }
        return sum;
    }
}
