using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Quants.Interleaved;

namespace Llamero.Quants;

// Fast Q5_K·Q8_K paths: Q4_K's kernels with the fifth bit OR-ed into each nibble. Integer sums are exact;
// only the float scaling order differs from the reference.
public sealed partial class Q5_K
{
    /// <summary>
    /// A Q5_K block for the AVX2 kernels: chunk p's low nibbles take high bit 2p of each Qh byte, its high
    /// nibbles bit 2p+1, moved to bit 4 by one 16-bit shift (bits crossing bytes are masked off).
    /// </summary>
    internal struct Avx2Block : IKQuantx8Block
    {
        private Vector256<byte> _scales;
        private Vector256<byte> _high;

        public static int BlockBytes => Q5_K.BlockBytes;
        public static bool HasMins => true;
        public float D { get; private set; }
        public float DMin { get; private set; }
        public Vector256<short> Coefficients { get; private set; }
        static GgmlType IKQuantx8Block.Type => GgmlType.Q5_K;
        public static int ScaleOffset => 0;

        // Record: the eight 6-bit scales then the eight mins as bytes where d, dmin and the packed 12 bytes were,
        // then Qh and Qs as in the block: 176 bytes, the same offsets.
        public static int RecordBytes => BlockBytes;

        public static void ToRecord(ReadOnlySpan<byte> block, Span<byte> record)
        {
            KQuantHelpers.UnpackScaleMinK4(ref Unsafe.AsRef(in block[ScalesOffset]), out var s0, out var s1, out var m0, out var m1);
            Vector128.Create(s0, s1, m0, m1).AsByte().CopyTo(record);
            block[QhOffset..BlockBytes].CopyTo(record[QhOffset..]);
        }

        public static void FromRecord(ReadOnlySpan<byte> record, Span<byte> block)
        {
            KQuantHelpers.PackScaleMinK4(record[..8], record[8..16], block.Slice(ScalesOffset, 12));
            record[QhOffset..BlockBytes].CopyTo(block[QhOffset..]);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(ref byte xb)
        {
            Q4_K.ScalesAndMinsAvx2(ref xb, out _scales, out var mins);
            Coefficients = mins;
            _high = Vector256.LoadUnsafe(ref xb, QhOffset);
            D = KQuantHelpers.ReadHalf(ref xb, 0);
            DMin = -KQuantHelpers.ReadHalf(ref xb, 2);
        }

        /// <summary>As <see cref="Q4_K.ScalesAndMinsAvx2"/> does from the unpacked words: scales as int16 in both
        /// halves, each min as int16 twice (its two 16-weight groups).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void LoadRecord(ref byte record)
        {
            var bytes = Vector128.LoadUnsafe(ref record);
            var scales16 = Avx2.ConvertToVector256Int16(bytes).GetLower();
            _scales = Vector256.Create(scales16, scales16).AsByte();
            Coefficients = Avx2.ConvertToVector256Int16(Ssse3.Shuffle(bytes, Vector128.Create((byte)8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)));
            _high = Vector256.LoadUnsafe(ref record, QhOffset);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Pair(ref byte xb, int p, out Vector256<byte> levels0, out Vector256<byte> levels1,
            out Vector256<short> scales0, out Vector256<short> scales1)
        {
            var low4 = Vector256.Create((byte)0x0F);
            var bit4 = Vector256.Create((byte)0x10);
            var bits = Vector256.LoadUnsafe(ref xb, (nuint)(QsOffset + 32 * p));
            levels0 = (bits & low4) | (KQuantAvx2Kernels.ShiftBits(_high, 4 - 2 * p) & bit4);
            levels1 = (Avx2.ShiftRightLogical(bits.AsUInt16(), 4).AsByte() & low4) | (KQuantAvx2Kernels.ShiftBits(_high, 3 - 2 * p) & bit4);
            scales0 = Q4_K.SubBlockScale(_scales, 2 * p);
            scales1 = Q4_K.SubBlockScale(_scales, 2 * p + 1);
        }
    }

    internal struct PortableBlock : IKQuantPortableBlock
    {
        public static int BlockBytes => Q5_K.BlockBytes;
        public static bool HasMins => true;

        public static void Unpack(ref byte xb, ref KQuantPortable.Weights256 levels, ref KQuantPortable.Scales16 scales,
            ref KQuantPortable.Scales16 coefficients, out float d, out float dMin)
        {
            Q4_K.ScalesAndMinsPortable(ref xb, ref scales, ref coefficients, out d, out dMin);
            ref var wb = ref Unsafe.As<KQuantPortable.Weights256, byte>(ref levels);
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
        }
    }
}
