using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Quants.Interleaved;

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

    /// <summary>
    /// A Q3_K block for the AVX2 kernels: level vector 4h+j is bits 2j of the 32 Qs bytes of half h, plus bit
    /// 4h+j of each HMask byte moved to bit 2 (value 4) by one 16-bit shift; bits crossing bytes are masked off.
    /// </summary>
    internal struct Avx2Block : IKQuantx8Block
    {
        private Vector256<byte> _scalesLow;
        private Vector256<byte> _scalesHigh;
        private Vector256<byte> _high;

        public static int BlockBytes => Q3_K.BlockBytes;
        public static bool HasMins => false;
        public float D { get; private set; }
        public readonly float DMin => 0;
        public Vector256<short> Coefficients { get; private set; }
        static GgmlType IKQuantx8Block.Type => GgmlType.Q3_K;
        public static int ScaleOffset => DOffset;

        // Record: HMask and Qs as in the block, then the sixteen scales minus 32 as signed bytes: 112 bytes.
        public static int RecordBytes => ScalesOffset + 16;

        public static void ToRecord(ReadOnlySpan<byte> block, Span<byte> record)
        {
            block[..ScalesOffset].CopyTo(record);
            ScalesVector(ref MemoryMarshal.GetReference(block)).AsByte().CopyTo(record.Slice(ScalesOffset, 16));
        }

        public static void FromRecord(ReadOnlySpan<byte> record, Span<byte> block)
        {
            record[..ScalesOffset].CopyTo(block);
            // The inverse of KQuantHelpers.UnpackScalesQ3K: word i of the (again +32) scales holds groups 4i..4i+3.
            Span<byte> biased = stackalloc byte[16];
            (Vector128.Create(record.Slice(ScalesOffset, 16)) + Vector128.Create((byte)32)).CopyTo(biased);
            var a = MemoryMarshal.Cast<byte, uint>(biased);
            var packed = MemoryMarshal.Cast<byte, uint>(block.Slice(ScalesOffset, 12));
            const uint Low2 = 0x03030303, Low4 = 0x0f0f0f0f;
            packed[0] = (a[0] & Low4) | ((a[2] & Low4) << 4);
            packed[1] = (a[1] & Low4) | ((a[3] & Low4) << 4);
            packed[2] = ((a[0] >> 4) & Low2) | (((a[1] >> 4) & Low2) << 2) | (((a[2] >> 4) & Low2) << 4) | (((a[3] >> 4) & Low2) << 6);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(ref byte xb)
        {
            Init(ref xb, ScalesVector(ref xb));
            D = KQuantHelpers.ReadHalf(ref xb, DOffset);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void LoadRecord(ref byte record) => Init(ref record, Vector128.LoadUnsafe(ref record, ScalesOffset).AsSByte());

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Init(ref byte xb, Vector128<sbyte> scales8)
        {
            KQuantAvx2Kernels.SplitGroupScales(scales8, out _scalesLow, out _scalesHigh);
            Coefficients = Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int16(scales8), 2);
            _high = Vector256.LoadUnsafe(ref xb);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Pair(ref byte xb, int p, out Vector256<byte> levels0, out Vector256<byte> levels1,
            out Vector256<short> scales0, out Vector256<short> scales1)
        {
            var three = Vector256.Create((byte)3);
            var bit2 = Vector256.Create((byte)4);
            var h = p >> 1;
            var j = 2 * (p & 1);
            var bits = Vector256.LoadUnsafe(ref xb, (nuint)(QsOffset + 32 * h));
            levels0 = (KQuantAvx2Kernels.ShiftBits(bits, -2 * j) & three) | (KQuantAvx2Kernels.ShiftBits(_high, 2 - 4 * h - j) & bit2);
            levels1 = (KQuantAvx2Kernels.ShiftBits(bits, -2 * j - 2) & three) | (KQuantAvx2Kernels.ShiftBits(_high, 1 - 4 * h - j) & bit2);
            scales0 = KQuantAvx2Kernels.GroupPairScales(_scalesLow, _scalesHigh, 2 * p);
            scales1 = KQuantAvx2Kernels.GroupPairScales(_scalesLow, _scalesHigh, 2 * p + 1);
        }
    }

    internal struct PortableBlock : IKQuantPortableBlock
    {
        public static int BlockBytes => Q3_K.BlockBytes;
        public static bool HasMins => false;

        public static void Unpack(ref byte xb, ref KQuantPortable.Weights256 levels, ref KQuantPortable.Scales16 scales,
            ref KQuantPortable.Scales16 coefficients, out float d, out float dMin)
        {
            var scales8 = ScalesVector(ref xb);
            for (var g = 0; g < 16; g++)
            {
                scales[g] = scales8.GetElement(g);
                coefficients[g] = 4 * scales[g];
            }
            ref var wb = ref Unsafe.As<KQuantPortable.Weights256, byte>(ref levels);
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
            d = KQuantHelpers.ReadHalf(ref xb, DOffset);
            dMin = 0;
        }
    }
}
