using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

// Fast Q3_K·Q8_K paths. Levels are taken unsigned (q = low | high·4, 0..7) and the −4 applied once per block
// through the Q8_K group sums: Σ s·(q−4)·a = Σ s·q·a − 4·Σ s·bsum. Integer sums are exact; only the float
// scaling order differs from the reference.
public sealed partial class Q3_K
{
    /// <summary>The sixteen scales of a block minus 32, as signed bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> ScalesVector(ref byte xb)
    {
        KQuantHelpers.UnpackScalesQ3K(ref Unsafe.Add(ref xb, ScalesOffset), out var a0, out var a1, out var a2, out var a3);
        return Vector128.Create(a0, a1, a2, a3).AsSByte() - Vector128.Create((sbyte)32);
    }

    static float IKQuantKernels.DotAvx2(ref byte x, ref byte y, int blocks) => DotAvx2Kernel(ref x, ref y, blocks);

    private static float DotAvx2Kernel(ref byte x, ref byte y, int blocks)
    {
        var acc = Vector256<float>.Zero;
        for (nint i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            var d = KQuantHelpers.ReadHalf(ref xb, DOffset) * Unsafe.ReadUnaligned<float>(ref yb);
            var scales8 = ScalesVector(ref xb);
            var offset = Avx2.ShiftLeftLogical(KQuantAvx2.GroupSums(ref yb, scales8), 2);

            // Bit 4h+j of each HMask byte, moved to bit 2 (value 4); shifting right one bit per group keeps
            // bits that cross bytes out of bit 0 for all eight groups.
            var high = Vector256.LoadUnsafe(ref xb).AsUInt16();
            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            var sumi = Half128(ref xb, ref q8, scales8, high, 0) + Half128(ref xb, ref q8, scales8, Avx2.ShiftRightLogical(high, 4), 1);
            acc = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(sumi - offset), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>
    /// Σ scale·q·a over weights 128·h .. 128·h+127 with unsigned levels. <paramref name="high"/> holds HMask
    /// shifted right by 4h, so bit j of each byte is the high bit of group j; it is moved to bit 2 (value 4).
    /// 16-bit shifts let bits cross bytes, but never into bit 2 of a byte they are read from.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Half128(ref byte xb, ref byte q8, Vector128<sbyte> scales8, Vector256<ushort> high, int h)
    {
        var bit2 = Vector256.Create((byte)4);
        var bits = Vector256.LoadUnsafe(ref xb, (nuint)(QsOffset + 32 * h));
        var q0 = KQuantAvx2.TwoBits(bits, 0) | (Avx2.ShiftLeftLogical(high, 2).AsByte() & bit2);
        var q1 = KQuantAvx2.TwoBits(bits, 2) | (Avx2.ShiftLeftLogical(high, 1).AsByte() & bit2);
        var q2 = KQuantAvx2.TwoBits(bits, 4) | (high.AsByte() & bit2);
        var q3 = KQuantAvx2.TwoBits(bits, 6) | (Avx2.ShiftRightLogical(high, 1).AsByte() & bit2);
        return KQuantAvx2.ScaledGroupPair(q0, ref q8, scales8, 4 * h) + KQuantAvx2.ScaledGroupPair(q1, ref q8, scales8, 4 * h + 1)
             + KQuantAvx2.ScaledGroupPair(q2, ref q8, scales8, 4 * h + 2) + KQuantAvx2.ScaledGroupPair(q3, ref q8, scales8, 4 * h + 3);
    }

    /// <summary>No 512-bit kernel yet: AVX-512 machines run the AVX2 one.</summary>
    static float IKQuantKernels.DotAvx512(ref byte x, ref byte y, int blocks) => DotAvx2Kernel(ref x, ref y, blocks);

    static float IKQuantKernels.DotPortable(bool wide, ref byte x, ref byte y, int blocks)
    {
        KQuantPortable.Weights256 w = default;
        KQuantPortable.Scales16 scales = default;
        float sum = 0;
        for (nint i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            var scales8 = ScalesVector(ref xb);
            for (var g = 0; g < 16; g++)
                scales[g] = scales8.GetElement(g);
            ref var wb = ref Unsafe.As<KQuantPortable.Weights256, byte>(ref w);
            var three = Vector128.Create((byte)3);
            var one = Vector128.Create((byte)1);
            for (nuint part = 0; part < 2; part++)
            {
                var high = Vector128.LoadUnsafe(ref xb, 16 * part);
                for (nuint h = 0; h < 2; h++)
                {
                    var bits = Vector128.LoadUnsafe(ref xb, QsOffset + 32 * h + 16 * part);
                    for (nuint j = 0; j < 4; j++)
                    {
                        var level = (bits & three) | Vector128.ShiftLeft(high & one, 2);
                        level.StoreUnsafe(ref wb, 128 * h + 32 * j + 16 * part);
                        bits = Vector128.ShiftRightLogical(bits, 2);
                        high = Vector128.ShiftRightLogical(high, 1);
                    }
                }
            }
            var isum = KQuantPortable.ScaledBlockDot(wide, ref w[0], ref KQuantPortable.Quants(ref yb), ref scales)
                     - 4 * KQuantPortable.GroupSums(ref yb, ref scales);
            sum += KQuantHelpers.ReadHalf(ref xb, DOffset) * Unsafe.ReadUnaligned<float>(ref yb) * isum;
        }
        return sum;
    }
}
