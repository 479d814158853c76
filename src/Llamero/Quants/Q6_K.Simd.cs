using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

// Fast Q6_K·Q8_K paths. The −32 offset is applied once per block through the Q8_K group sums
// (Σ sc·(q−32)·a = Σ sc·q·a − 32·Σ sc·bsum), so the inner loop multiplies unsigned 6-bit levels. Integer sums
// are exact; only the float scaling order differs from the reference.
public sealed partial class Q6_K
{
    /// <summary>
    /// A Q6_K block for the AVX2 kernels: in half h (p = 2h, 2h+1), levels 4h+0 and 4h+1 are the low nibbles of
    /// Ql with Qh bits 0-1 and 2-3, levels 4h+2 and 4h+3 the high nibbles with bits 4-5 and 6-7.
    /// </summary>
    private struct Avx2Block : IKQuantAvx2Block
    {
        private Vector256<byte> _scalesLow;
        private Vector256<byte> _scalesHigh;

        public static int BlockBytes => Q6_K.BlockBytes;
        public static bool HasMins => false;
        public float D { get; private set; }
        public readonly float DMin => 0;
        public Vector256<short> Coefficients { get; private set; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(ref byte xb)
        {
            var scales8 = Vector128.LoadUnsafe(ref Unsafe.Add(ref xb, ScalesOffset)).AsSByte();
            KQuantAvx2Kernels.SplitGroupScales(scales8, out _scalesLow, out _scalesHigh);
            Coefficients = Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int16(scales8), 5);
            D = KQuantHelpers.ReadHalf(ref xb, DOffset);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Pair(ref byte xb, int p, out Vector256<byte> levels0, out Vector256<byte> levels1,
            out Vector256<short> scales0, out Vector256<short> scales1)
        {
            var low4 = Vector256.Create((byte)0x0F);
            var high2 = Vector256.Create((byte)0x30);
            var h = p >> 1;
            var ql0 = Vector256.LoadUnsafe(ref xb, (nuint)(64 * h));
            var ql1 = Vector256.LoadUnsafe(ref xb, (nuint)(64 * h + 32));
            var qh = Vector256.LoadUnsafe(ref xb, (nuint)(QhOffset + 32 * h));
            // Byte-wise shifts done on 16-bit lanes; the 0x30 mask drops the bits that cross bytes.
            if ((p & 1) == 0)
            {
                levels0 = (ql0 & low4) | (KQuantAvx2Kernels.ShiftBits(qh, 4) & high2);
                levels1 = (ql1 & low4) | (KQuantAvx2Kernels.ShiftBits(qh, 2) & high2);
            }
            else
            {
                levels0 = (KQuantAvx2Kernels.ShiftBits(ql0, -4) & low4) | (qh & high2);
                levels1 = (KQuantAvx2Kernels.ShiftBits(ql1, -4) & low4) | (KQuantAvx2Kernels.ShiftBits(qh, -2) & high2);
            }
            scales0 = KQuantAvx2Kernels.GroupPairScales(_scalesLow, _scalesHigh, 2 * p);
            scales1 = KQuantAvx2Kernels.GroupPairScales(_scalesLow, _scalesHigh, 2 * p + 1);
        }
    }

    private struct PortableBlock : IKQuantPortableBlock
    {
        public static int BlockBytes => Q6_K.BlockBytes;
        public static bool HasMins => false;

        public static void Unpack(ref byte xb, ref KQuantPortable.Weights256 levels, ref KQuantPortable.Scales16 scales,
            ref KQuantPortable.Scales16 coefficients, out float d, out float dMin)
        {
            for (var g = 0; g < 16; g++)
            {
                scales[g] = (sbyte)Unsafe.Add(ref xb, ScalesOffset + g);
                coefficients[g] = 32 * scales[g];
            }
            ref var wb = ref Unsafe.As<KQuantPortable.Weights256, byte>(ref levels);
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
            d = KQuantHelpers.ReadHalf(ref xb, DOffset);
            dMin = 0;
        }
    }
}
