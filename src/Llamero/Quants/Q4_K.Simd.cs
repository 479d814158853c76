using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

// Fast Q4_K·Q8_K paths. Integer sums are exact; only the float scaling differs from the reference (one
// d·Σ per block instead of eight lane accumulators), so results agree to a few float ulps of the magnitude.
public sealed partial class Q4_K
{
    /// <summary>
    /// The Q4_K/Q5_K scales and mins of a block for AVX2: the eight scales as int16 in both 128-bit halves (for
    /// <see cref="SubBlockScale"/>) and each min repeated for the two 16-weight groups of its sub-block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ScalesAndMinsAvx2(ref byte xb, out Vector256<byte> scales, out Vector256<short> mins)
    {
        KQuantHelpers.UnpackScaleMinK4(ref Unsafe.Add(ref xb, ScalesOffset), out var s0, out var s1, out var m0, out var m1);
        var bytes = Vector128.Create(s0, s1, m0, m1).AsByte();
        var scales16 = Avx2.ConvertToVector256Int16(bytes).GetLower();
        scales = Vector256.Create(scales16, scales16).AsByte();
        var minPairs = Ssse3.Shuffle(bytes, Vector128.Create((byte)8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15));
        mins = Avx2.ConvertToVector256Int16(minPairs);
    }

    /// <summary>Sub-block <paramref name="s"/>'s scale in every int16 lane (bytes 2s, 2s+1 of <paramref name="scales"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<short> SubBlockScale(Vector256<byte> scales, int s) =>
        Avx2.Shuffle(scales, Vector256.Create((short)(((2 * s + 1) << 8) | (2 * s))).AsByte()).AsInt16();

    /// <summary>A Q4_K block for the AVX2 kernels: level vectors 2p, 2p+1 are the low and high nibbles of chunk p.</summary>
    private struct Avx2Block : IKQuantAvx2Block
    {
        private Vector256<byte> _scales;

        public static int BlockBytes => Q4_K.BlockBytes;
        public static bool HasMins => true;
        public float D { get; private set; }
        public float DMin { get; private set; }
        public Vector256<short> Coefficients { get; private set; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(ref byte xb)
        {
            ScalesAndMinsAvx2(ref xb, out _scales, out var mins);
            Coefficients = mins;
            D = KQuantHelpers.ReadHalf(ref xb, 0);
            DMin = -KQuantHelpers.ReadHalf(ref xb, 2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Pair(ref byte xb, int p, out Vector256<byte> levels0, out Vector256<byte> levels1,
            out Vector256<short> scales0, out Vector256<short> scales1)
        {
            var low4 = Vector256.Create((byte)0x0F);
            var bits = Vector256.LoadUnsafe(ref xb, (nuint)(QsOffset + 32 * p));
            levels0 = bits & low4;
            levels1 = Avx2.ShiftRightLogical(bits.AsUInt16(), 4).AsByte() & low4;
            scales0 = SubBlockScale(_scales, 2 * p);
            scales1 = SubBlockScale(_scales, 2 * p + 1);
        }
    }

    /// <summary>The Q4_K/Q5_K scales and mins of a block, one per 16-weight group, and the block's d and −dmin.</summary>
    internal static void ScalesAndMinsPortable(ref byte xb, ref KQuantPortable.Scales16 scales, ref KQuantPortable.Scales16 mins,
        out float d, out float dMin)
    {
        KQuantHelpers.UnpackScaleMinK4(ref Unsafe.Add(ref xb, ScalesOffset), out var s0, out var s1, out var m0, out var m1);
        var sc = (ulong)s0 | ((ulong)s1 << 32);
        var mn = (ulong)m0 | ((ulong)m1 << 32);
        for (var g = 0; g < 16; g++)
        {
            scales[g] = (int)((sc >> (8 * (g / 2))) & 0xFF);
            mins[g] = (int)((mn >> (8 * (g / 2))) & 0xFF);
        }
        d = KQuantHelpers.ReadHalf(ref xb, 0);
        dMin = -KQuantHelpers.ReadHalf(ref xb, 2);
    }

    private struct PortableBlock : IKQuantPortableBlock
    {
        public static int BlockBytes => Q4_K.BlockBytes;
        public static bool HasMins => true;

        public static void Unpack(ref byte xb, ref KQuantPortable.Weights256 levels, ref KQuantPortable.Scales16 scales,
            ref KQuantPortable.Scales16 coefficients, out float d, out float dMin)
        {
            ScalesAndMinsPortable(ref xb, ref scales, ref coefficients, out d, out dMin);
            ref var q4 = ref Unsafe.Add(ref xb, QsOffset);
            ref var wc = ref Unsafe.As<KQuantPortable.Weights256, byte>(ref levels);
            for (var chunk = 0; chunk < 4; chunk++)
            {
                var bits = Vector128.LoadUnsafe(ref q4, (nuint)(32 * chunk));
                var bits2 = Vector128.LoadUnsafe(ref q4, (nuint)(32 * chunk + 16));
                (bits & Vector128.Create((byte)0xF)).StoreUnsafe(ref wc, (nuint)(64 * chunk));
                (bits2 & Vector128.Create((byte)0xF)).StoreUnsafe(ref wc, (nuint)(64 * chunk + 16));
                Vector128.ShiftRightLogical(bits, 4).StoreUnsafe(ref wc, (nuint)(64 * chunk + 32));
                Vector128.ShiftRightLogical(bits2, 4).StoreUnsafe(ref wc, (nuint)(64 * chunk + 48));
            }
        }
    }
}
