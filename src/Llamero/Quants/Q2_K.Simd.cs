using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Quants.Interleaved;

namespace Llamero.Quants;

// Fast Q2_K·Q8_K paths. Integer sums are exact; only the float scaling order differs from the reference.
public sealed partial class Q2_K
{
    /// <summary>A Q2_K block for the AVX2 kernels: level vector 4h+j is bits 2j of the 32 bytes of half h.</summary>
    internal struct Avx2Block : IKQuantx8Block
    {
        private Vector256<byte> _scalesLow;
        private Vector256<byte> _scalesHigh;

        public static int BlockBytes => Q2_K.BlockBytes;
        public static bool HasMins => true;
        public float D { get; private set; }
        public float DMin { get; private set; }
        public Vector256<short> Coefficients { get; private set; }
        static GgmlType IKQuantx8Block.Type => GgmlType.Q2_K;
        public static int ScaleOffset => DOffset;

        // Record: the block up to d (group scales are bytes already), 80 bytes.
        public static int RecordBytes => DOffset;

        public static void ToRecord(ReadOnlySpan<byte> block, Span<byte> record) => block[..DOffset].CopyTo(record);

        public static void FromRecord(ReadOnlySpan<byte> record, Span<byte> block) => record[..DOffset].CopyTo(block);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void LoadRecord(ref byte record) => LoadScales(ref record);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(ref byte xb)
        {
            LoadScales(ref xb);
            D = KQuantHelpers.ReadHalf(ref xb, DOffset);
            DMin = -KQuantHelpers.ReadHalf(ref xb, DMinOffset);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void LoadScales(ref byte xb)
        {
            var packed = Vector128.LoadUnsafe(ref xb);
            KQuantAvx2Kernels.SplitGroupScales((packed & Vector128.Create((byte)0x0F)).AsSByte(), out _scalesLow, out _scalesHigh);
            Coefficients = Avx2.ConvertToVector256Int16(Vector128.ShiftRightLogical(packed, 4));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Pair(ref byte xb, int p, out Vector256<byte> levels0, out Vector256<byte> levels1,
            out Vector256<short> scales0, out Vector256<short> scales1)
        {
            var three = Vector256.Create((byte)3);
            var bits = Vector256.LoadUnsafe(ref xb, (nuint)(QsOffset + 32 * (p >> 1)));
            levels0 = KQuantAvx2Kernels.ShiftBits(bits, -4 * (p & 1)) & three;
            levels1 = KQuantAvx2Kernels.ShiftBits(bits, -4 * (p & 1) - 2) & three;
            scales0 = KQuantAvx2Kernels.GroupPairScales(_scalesLow, _scalesHigh, 2 * p);
            scales1 = KQuantAvx2Kernels.GroupPairScales(_scalesLow, _scalesHigh, 2 * p + 1);
        }
    }

    internal struct PortableBlock : IKQuantPortableBlock
    {
        public static int BlockBytes => Q2_K.BlockBytes;
        public static bool HasMins => true;

        public static void Unpack(ref byte xb, ref KQuantPortable.Weights256 levels, ref KQuantPortable.Scales16 scales,
            ref KQuantPortable.Scales16 coefficients, out float d, out float dMin)
        {
            for (var g = 0; g < 16; g++)
            {
                scales[g] = Unsafe.Add(ref xb, g) & 0xF;
                coefficients[g] = Unsafe.Add(ref xb, g) >> 4;
            }
            ref var wb = ref Unsafe.As<KQuantPortable.Weights256, byte>(ref levels);
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
            d = KQuantHelpers.ReadHalf(ref xb, DOffset);
            dMin = -KQuantHelpers.ReadHalf(ref xb, DMinOffset);
        }
    }
}
