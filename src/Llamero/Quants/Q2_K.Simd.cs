using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

// Fast Q2_K·Q8_K paths. Integer sums are exact; only the float scaling order differs from the reference.
public sealed partial class Q2_K
{
    static float IKQuantKernels.DotAvx2(ref byte x, ref byte y, int blocks) => DotAvx2Kernel(ref x, ref y, blocks);

    private static float DotAvx2Kernel(ref byte x, ref byte y, int blocks)
    {
        var acc = Vector256<float>.Zero;
        var accMin = Vector256<float>.Zero;
        for (nint i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            var dy = Unsafe.ReadUnaligned<float>(ref yb);
            var packed = Vector128.LoadUnsafe(ref xb);
            var scales8 = (packed & Vector128.Create((byte)0x0F)).AsSByte();
            var mins8 = Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & Vector128.Create((byte)0x0F);
            accMin = Fma.MultiplyAdd(Vector256.Create(dy * KQuantHelpers.ReadHalf(ref xb, DMinOffset)),
                Avx.ConvertToVector256Single(KQuantAvx2.GroupSums(ref yb, mins8.AsSByte())), accMin);

            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            var sumi = Half128(ref xb, ref q8, scales8, 0) + Half128(ref xb, ref q8, scales8, 1);
            acc = Fma.MultiplyAdd(Vector256.Create(dy * KQuantHelpers.ReadHalf(ref xb, DOffset)), Avx.ConvertToVector256Single(sumi), acc);
        }
        return Vector256.Sum(acc) - Vector256.Sum(accMin);
    }

    /// <summary>Σ scale·q·a over weights 128·h .. 128·h+127.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Half128(ref byte xb, ref byte q8, Vector128<sbyte> scales8, int h)
    {
        var bits = Vector256.LoadUnsafe(ref xb, (nuint)(QsOffset + 32 * h));
        return KQuantAvx2.ScaledGroupPair(KQuantAvx2.TwoBits(bits, 0), ref q8, scales8, 4 * h)
             + KQuantAvx2.ScaledGroupPair(KQuantAvx2.TwoBits(bits, 2), ref q8, scales8, 4 * h + 1)
             + KQuantAvx2.ScaledGroupPair(KQuantAvx2.TwoBits(bits, 4), ref q8, scales8, 4 * h + 2)
             + KQuantAvx2.ScaledGroupPair(KQuantAvx2.TwoBits(bits, 6), ref q8, scales8, 4 * h + 3);
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
            for (var g = 0; g < 16; g++)
            {
                scales[g] = Unsafe.Add(ref xb, g) & 0xF;
                mins[g] = Unsafe.Add(ref xb, g) >> 4;
            }
            ref var wb = ref Unsafe.As<KQuantPortable.Weights256, byte>(ref w);
            var three = Vector128.Create((byte)3);
            for (nuint h = 0; h < 2; h++)
                for (nuint part = 0; part < 2; part++)
                {
                    var bits = Vector128.LoadUnsafe(ref xb, QsOffset + 32 * h + 16 * part);
                    for (nuint j = 0; j < 4; j++)
                    {
                        (bits & three).StoreUnsafe(ref wb, 128 * h + 32 * j + 16 * part);
                        bits = Vector128.ShiftRightLogical(bits, 2);
                    }
                }
            var isum = KQuantPortable.ScaledBlockDot(wide, ref w[0], ref KQuantPortable.Quants(ref yb), ref scales);
            var msum = KQuantPortable.GroupSums(ref yb, ref mins);
            var dy = Unsafe.ReadUnaligned<float>(ref yb);
            sum += dy * KQuantHelpers.ReadHalf(ref xb, DOffset) * isum - dy * KQuantHelpers.ReadHalf(ref xb, DMinOffset) * msum;
        }
        return sum;
    }
}
