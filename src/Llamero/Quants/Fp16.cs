using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

/// <summary>
/// IEEE half-precision conversions exactly as ggml performs them (the block scales of every quant format are
/// stored this way). FP32→FP16 rounds to nearest even, overflows to infinity and turns every NaN into the quiet
/// NaN 0x7E00 with the input's sign (ggml_compute_fp32_to_fp16). FP16→FP32 is exact.
/// .NET exposes no F16C instructions, so the vector forms use integer arithmetic: a half's exponent/mantissa bits
/// are moved to a single's positions and rebiased (<see cref="Magnitude(Vector256{int})"/>), the sign is put back
/// and exponent 31 (infinity, NaN) is patched to 255. No step of the exact forms has a subnormal float operand:
/// block scales are often subnormal halves (every Q6_K d of a real model), and a subnormal operand costs a
/// microcode assist (on the Zen 4 these benchmarks run on, a multiply by 2^112 per scale halved the Q4_K and Q6_K
/// Gemv speed) and reads as zero under a native library's denormals-are-zero. Only <see cref="ToFloatFinite"/>, for
/// dense F16 data (a KV cache, F16 weights) where subnormals are rare, still multiplies.
/// </summary>
public static class Fp16
{
    // 2^112: moves a half's exponent (bias 15) to a single's (bias 127). Exact for normals and subnormals.
    private const float HalfToSingleScale = 5.192296858534828e33f;

    // Added to a half's exponent/mantissa bits in a single's positions (bits 13..27), as an integer: the exponent
    // rebiased from 15 to 127.
    private const int Rebias = (127 - 15) << 23;

    // A half sign-extended to 32 bits and shifted left by 13 keeps its sign in bit 31 and its exponent and
    // mantissa in bits 13..27; bits 28..30 hold copies of the sign and are cleared by this mask.
    private const uint SignAndMagnitudeMask = 0x8FFFE000u;

    // One more exponent step, and 2^-14 (the smallest normal half), for subnormal halves (see Magnitude).
    private const int OneExponent = 1 << 23;
    private const float SmallestNormalHalf = 6.103515625e-05f;

    // A half's exponent and mantissa after a shift left by 13, and its sign.
    private const int MagnitudeMask = 0x0FFFE000;
    private const int SignMask = int.MinValue;

    // Every half widened once (256 KiB, pinned): the block scales of the quant formats are read through it, one
    // load instead of a dozen integer operations per scale. Scales of real rows cluster, so the hot part stays
    // cached. Kept as a pointer: a static readonly pointer is a constant to the JIT, so the hot loops index it
    // directly instead of reloading an array reference per lookup.
    private static readonly unsafe float* Table = BuildTable();

    private static unsafe float* BuildTable()
    {
        var table = GC.AllocateArray<float>(65536, pinned: true);
        for (var h = 0; h < table.Length; h++)
            table[h] = Compute((ushort)h);
        Pinned = table;
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(table));
    }

    // Keeps the pinned table alive for the process.
    private static float[]? Pinned;

    /// <summary>Widens the half whose bits are <paramref name="h"/> to a float (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float ToFloat(ushort h) => Table[h];

    /// <summary>The arithmetic behind <see cref="ToFloat(ushort)"/>'s table.</summary>
    internal static float Compute(ushort h)
    {
        var magnitude = (uint)(h & 0x7FFF) << 13;
        var sign = (uint)(h & 0x8000) << 16;
        var bits = magnitude >= 0x0F800000u
            ? magnitude | 0x7F800000u // infinity or NaN keeps its payload
            : BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle(magnitude) * HalfToSingleScale);
        return BitConverter.UInt32BitsToSingle(bits | sign);
    }

    /// <summary>Eight halves (in the low 16 bits of each lane) to eight floats, exact for every bit pattern.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToFloat(Vector256<uint> h)
    {
        var finite = Magnitude(((h << 13) & Vector256.Create((uint)MagnitudeMask)).AsInt32()).AsUInt32() | ((h & Vector256.Create(0x8000u)) << 16);
        var special = Vector256.Equals(h & Vector256.Create(0x7C00u), Vector256.Create(0x7C00u));
        return (finite | (special & Vector256.Create(0x7F800000u))).AsSingle();
    }

    /// <summary>
    /// Halves' exponent and mantissa bits in a single's bits 13..27 (sign cleared) to the magnitudes they mean, exact,
    /// with no subnormal float in any step. Rebiased as an integer, a normal half t is exact; a subnormal one
    /// (mantissa m, value m·2^-24) comes out as 2^-15 + m·2^-25, too large. One more exponent step and minus 2^-14
    /// gives m·2^-24 exactly for a subnormal half, and 2t − 2^-14 ≥ t for a normal one: the smaller is right for both.
    /// An infinite or NaN half (exponent 31) comes out finite, at least 65536, with its mantissa in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Magnitude(Vector256<int> bits)
    {
        var normal = bits + Vector256.Create(Rebias);
        var subnormal = (normal + Vector256.Create(OneExponent)).AsSingle() - Vector256.Create(SmallestNormalHalf);
        return Vector256.MinNative(normal.AsSingle(), subnormal);
    }

    /// <summary>The 128-bit twin of <see cref="Magnitude(Vector256{int})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Magnitude(Vector128<int> bits)
    {
        var normal = bits + Vector128.Create(Rebias);
        var subnormal = (normal + Vector128.Create(OneExponent)).AsSingle() - Vector128.Create(SmallestNormalHalf);
        return Vector128.MinNative(normal.AsSingle(), subnormal);
    }

    /// <summary>Eight halves sign-extended to 32 bits, to floats, exact for every bit pattern.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ToFloatSignExtended(Vector256<int> h)
    {
        var special = Vector256.Equals(h & Vector256.Create(0x7C00), Vector256.Create(0x7C00));
        return (ToFloatFiniteScales(h).AsInt32() | (special & Vector256.Create(0x7F800000))).AsSingle();
    }

    /// <summary>Four halves (in the low 16 bits of each lane) to four floats, exact for every bit pattern.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ToFloat(Vector128<uint> h)
    {
        var finite = Magnitude(((h << 13) & Vector128.Create((uint)MagnitudeMask)).AsInt32()).AsUInt32() | ((h & Vector128.Create(0x8000u)) << 16);
        var special = Vector128.Equals(h & Vector128.Create(0x7C00u), Vector128.Create(0x7C00u));
        return (finite | (special & Vector128.Create(0x7F800000u))).AsSingle();
    }

    /// <summary>
    /// Eight halves sign-extended to 32 bits, to floats, exact unless a half is infinite or NaN (exponent 31, which
    /// comes out as a finite value of magnitude ≥ 65536): three operations, for dense F16 data in loops that check
    /// <see cref="MaxMagnitude"/> once and take the exact path when it reaches 0x7C00. A subnormal half comes out
    /// exact but through a subnormal float operand (a microcode assist on some CPUs, zero under denormals-are-zero),
    /// so block scales, which are often subnormal, go through <see cref="ToFloatFiniteScales"/> instead, or through a
    /// loop that also checks <see cref="SawSubnormal"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ToFloatFinite(Vector256<int> signExtended) =>
        ((signExtended << 13) & Vector256.Create(SignAndMagnitudeMask).AsInt32()).AsSingle() * Vector256.Create(HalfToSingleScale);

    /// <summary>
    /// <see cref="ToFloatFinite"/> without a subnormal float operand (see <see cref="Magnitude(Vector256{int})"/>), at
    /// the cost of five more operations: for block scales, which are often subnormal halves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ToFloatFiniteScales(Vector256<int> signExtended)
    {
        var shifted = signExtended << 13;
        return (Magnitude(shifted & Vector256.Create(MagnitudeMask)).AsInt32() | (shifted & Vector256.Create(SignMask))).AsSingle();
    }

    /// <summary>Running minimum of |h| − 1 (unsigned) over halves' magnitudes (|h|, sign cleared, one per lane): it falls
    /// below 0x3FF exactly when one of them is subnormal (a zero wraps to the top).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> MinMagnitudeLessOne(Vector256<uint> min, Vector256<int> magnitudes) =>
        Vector256.Min(min, (magnitudes - Vector256<int>.One).AsUInt32());

    /// <summary>True when a <see cref="MinMagnitudeLessOne"/> accumulator (started at all ones) saw a subnormal half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool SawSubnormal(Vector256<uint> min) =>
        Vector256.LessThanAny(min, Vector256.Create(0x3FFu));

    /// <summary>Running maximum of |h| (sign cleared) over sixteen halves: it reaches 0x7C00 exactly when one of
    /// them is infinite or NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<ushort> MaxMagnitude(Vector256<ushort> max, Vector256<ushort> halves) =>
        Vector256.Max(max, halves & Vector256.Create((ushort)0x7FFF));

    /// <summary>True when a lane of a <see cref="MaxMagnitude"/> accumulator saw an infinite or NaN half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool SawInfinityOrNaN(Vector256<ushort> max) =>
        Vector256.GreaterThanOrEqualAny(max, Vector256.Create((ushort)0x7C00));

    /// <summary>Widens every half of <paramref name="src"/> into <paramref name="dst"/> (exact, vectorised).</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is shorter than <paramref name="src"/>.</exception>
    public static void ToSingle(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length)
            throw new ArgumentException($"Fp16.ToSingle: {src.Length} halves do not fit {dst.Length} floats.", nameof(dst));
        ref var s = ref MemoryMarshal.GetReference(src);
        ref var d = ref MemoryMarshal.GetReference(dst);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= src.Length; i += 8)
            {
                var h = Avx2.IsSupported
                    ? Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<ushort, short>(ref s), (nuint)i))
                    : Vector256.WidenLower(Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.As<ushort, short>(ref s), (nuint)i), default));
                ToFloatSignExtended(h).StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= src.Length; i += 4)
            {
                var h = Vector128.WidenLower(Vector128.CreateScalar(
                    Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref s, i)))).AsUInt16());
                ToFloat(h).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < src.Length; i++)
            Unsafe.Add(ref d, i) = ToFloat(Unsafe.Add(ref s, i));
    }

    /// <summary>Rounds every float of <paramref name="src"/> to a half in <paramref name="dst"/>, bit-identical to
    /// <see cref="FromFloat(float)"/> (ggml's rounding), vectorised.</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is shorter than <paramref name="src"/>.</exception>
    public static void FromSingle(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length < src.Length)
            throw new ArgumentException($"Fp16.FromSingle: {src.Length} floats do not fit {dst.Length} halves.", nameof(dst));
        ref var s = ref MemoryMarshal.GetReference(src);
        ref var d = ref MemoryMarshal.GetReference(dst);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= src.Length; i += 8)
            {
                var bits = FromFloat(Vector256.LoadUnsafe(ref s, (nuint)i));
                Vector128.Narrow(bits.GetLower(), bits.GetUpper()).StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 8 <= src.Length; i += 8)
            {
                var lo = FromFloat(Vector128.LoadUnsafe(ref s, (nuint)i));
                var hi = FromFloat(Vector128.LoadUnsafe(ref s, (nuint)i + 4));
                Vector128.Narrow(lo, hi).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < src.Length; i++)
            Unsafe.Add(ref d, i) = FromFloat(Unsafe.Add(ref s, i));
    }

    // FP32→FP16 rounding constants (see FromFloat).
    private const float ScaleToInf = 5.192296858534828e33f;  // 0x77800000
    private const float ScaleToZero = 7.703719777548943e-34f; // 0x08800000

    /// <summary>Rounds <paramref name="f"/> to the nearest half (ties to even), as ggml_compute_fp32_to_fp16.</summary>
    public static ushort FromFloat(float f)
    {
        // The float arithmetic below performs the rounding: scaling to infinity and back to zero moves the
        // mantissa bits that survive into place, adding the bias constant rounds them to nearest even.
        var w = BitConverter.SingleToUInt32Bits(f);
        var shl1W = w + w;
        var sign = w & 0x80000000u;
        var bias = shl1W & 0xFF000000u;
        if (bias < 0x71000000u)
            bias = 0x71000000u;
        var baseValue = MathF.Abs(f) * ScaleToInf * ScaleToZero;
        baseValue = BitConverter.UInt32BitsToSingle((bias >> 1) + 0x07800000u) + baseValue;
        var bits = BitConverter.SingleToUInt32Bits(baseValue);
        var expBits = (bits >> 13) & 0x00007C00u;
        var mantissaBits = bits & 0x00000FFFu;
        var nonSign = expBits + mantissaBits;
        return (ushort)((sign >> 16) | (shl1W > 0xFF000000u ? 0x7E00u : nonSign));
    }

    /// <summary>The vector twin of <see cref="FromFloat(float)"/>: eight halves, each in the low 16 bits of a lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> FromFloat(Vector256<float> f)
    {
        var w = f.AsUInt32();
        var shl1W = w + w;
        var sign = w & Vector256.Create(0x80000000u);
        var bias = Vector256.Max(shl1W & Vector256.Create(0xFF000000u), Vector256.Create(0x71000000u));
        var baseValue = Vector256.Abs(f) * Vector256.Create(ScaleToInf) * Vector256.Create(ScaleToZero);
        baseValue = ((bias >> 1) + Vector256.Create(0x07800000u)).AsSingle() + baseValue;
        var bits = baseValue.AsUInt32();
        var nonSign = ((bits >> 13) & Vector256.Create(0x7C00u)) + (bits & Vector256.Create(0x0FFFu));
        var nan = Vector256.GreaterThan(shl1W, Vector256.Create(0xFF000000u));
        return (sign >> 16) | Vector256.ConditionalSelect(nan, Vector256.Create(0x7E00u), nonSign);
    }

    /// <summary>The vector twin of <see cref="FromFloat(float)"/>: four halves, each in the low 16 bits of a lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> FromFloat(Vector128<float> f)
    {
        var w = f.AsUInt32();
        var shl1W = w + w;
        var sign = w & Vector128.Create(0x80000000u);
        var bias = Vector128.Max(shl1W & Vector128.Create(0xFF000000u), Vector128.Create(0x71000000u));
        var baseValue = Vector128.Abs(f) * Vector128.Create(ScaleToInf) * Vector128.Create(ScaleToZero);
        baseValue = ((bias >> 1) + Vector128.Create(0x07800000u)).AsSingle() + baseValue;
        var bits = baseValue.AsUInt32();
        var nonSign = ((bits >> 13) & Vector128.Create(0x7C00u)) + (bits & Vector128.Create(0x0FFFu));
        var nan = Vector128.GreaterThan(shl1W, Vector128.Create(0xFF000000u));
        return (sign >> 16) | Vector128.ConditionalSelect(nan, Vector128.Create(0x7E00u), nonSign);
    }
}
