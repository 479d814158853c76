using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

// Fast Q6_K·Q8_K paths. The −32 offset is applied once per block through the Q8_K group sums
// (Σ sc·(q−32)·a = Σ sc·q·a − 32·Σ sc·bsum), so the inner loop multiplies unsigned 6-bit levels. Integer sums
// are exact; only the float scaling order differs from the reference.
public sealed partial class Q6_K
{
    static float IKQuantKernels.DotAvx2(ref byte x, ref byte y, int blocks)
    {
        var acc = Vector256<float>.Zero;
        for (nint i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            var d = KQuantHelpers.ReadHalf(ref xb, DOffset) * Unsafe.ReadUnaligned<float>(ref yb);

            var scales8 = Vector128.LoadUnsafe(ref Unsafe.Add(ref xb, ScalesOffset)).AsSByte();
            var offset = Avx2.ShiftLeftLogical(KQuantAvx2.GroupSums(ref yb, scales8), 5);

            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            var sumi = Half128(ref xb, ref q8, scales8, 0) + Half128(ref xb, ref q8, scales8, 1);
            acc = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(sumi - offset), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>Σ scale·q·a over weights 128·h .. 128·h+127 (levels unsigned, offset not applied).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Half128(ref byte xb, ref byte q8, Vector128<sbyte> scales8, int h)
    {
        var low4 = Vector256.Create((byte)0x0F);
        var high2 = Vector256.Create((byte)0x30);
        var ql0 = Vector256.LoadUnsafe(ref xb, (nuint)(64 * h));
        var ql1 = Vector256.LoadUnsafe(ref xb, (nuint)(64 * h + 32));
        var qh = Vector256.LoadUnsafe(ref xb, (nuint)(QhOffset + 32 * h)).AsUInt16();
        // Byte-wise shifts done on 16-bit lanes; the 0x30 mask drops the bits that cross bytes.
        var q0 = (ql0 & low4) | (Avx2.ShiftLeftLogical(qh, 4).AsByte() & high2);
        var q1 = (ql1 & low4) | (Avx2.ShiftLeftLogical(qh, 2).AsByte() & high2);
        var q2 = (Avx2.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & low4) | (qh.AsByte() & high2);
        var q3 = (Avx2.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & low4) | (Avx2.ShiftRightLogical(qh, 2).AsByte() & high2);
        return KQuantAvx2.ScaledGroupPair(q0, ref q8, scales8, 4 * h + 0) + KQuantAvx2.ScaledGroupPair(q1, ref q8, scales8, 4 * h + 1)
             + KQuantAvx2.ScaledGroupPair(q2, ref q8, scales8, 4 * h + 2) + KQuantAvx2.ScaledGroupPair(q3, ref q8, scales8, 4 * h + 3);
    }

    static float IKQuantKernels.DotPortable(bool wide, ref byte x, ref byte y, int blocks)
    {
        KQuantPortable.Weights256 w = default;
        KQuantPortable.Scales16 scales = default;
        float sum = 0;
        for (nint i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            for (var g = 0; g < 16; g++)
                scales[g] = (sbyte)Unsafe.Add(ref xb, ScalesOffset + g);
            ref var wb = ref Unsafe.As<KQuantPortable.Weights256, byte>(ref w);
            var low4 = Vector128.Create((byte)0x0F);
            var high2 = Vector128.Create((byte)0x30);
            for (nuint h = 0; h < 2; h++)
                for (nuint part = 0; part < 2; part++)
                {
                    var ql0 = Vector128.LoadUnsafe(ref xb, 64 * h + 16 * part);
                    var ql1 = Vector128.LoadUnsafe(ref xb, 64 * h + 32 + 16 * part);
                    var qh = Vector128.LoadUnsafe(ref xb, QhOffset + 32 * h + 16 * part);
                    var o = 128 * h + 16 * part;
                    ((ql0 & low4) | (Vector128.ShiftLeft(qh, 4) & high2)).StoreUnsafe(ref wb, o);
                    ((ql1 & low4) | (Vector128.ShiftLeft(qh, 2) & high2)).StoreUnsafe(ref wb, o + 32);
                    (Vector128.ShiftRightLogical(ql0, 4) | (qh & high2)).StoreUnsafe(ref wb, o + 64);
                    (Vector128.ShiftRightLogical(ql1, 4) | (Vector128.ShiftRightLogical(qh, 2) & high2)).StoreUnsafe(ref wb, o + 96);
                }
            var isum = KQuantPortable.ScaledBlockDot(wide, ref w[0], ref KQuantPortable.Quants(ref yb), ref scales)
                     - 32 * KQuantPortable.GroupSums(ref yb, ref scales);
            sum += KQuantHelpers.ReadHalf(ref xb, DOffset) * Unsafe.ReadUnaligned<float>(ref yb) * isum;
        }
        return sum;
    }
}
