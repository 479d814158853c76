using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// What a 32-element block format contributes to its dot product with Q8 activations: its weights unpacked to
/// signed bytes, the block's combined scale and, for the formats with a minimum (Q4_1, Q5_1), the m·s term.
/// <see cref="Int8BlockDot"/> holds the loops, once per SIMD path, specialised per format by the JIT.
/// </summary>
internal interface IInt8BlockPair<TW, TA>
    where TW : unmanaged
    where TA : unmanaged
{
    /// <summary>The 32 weights as signed bytes, elements 0..15 and 16..31.</summary>
    static abstract (Vector128<sbyte> Low, Vector128<sbyte> High) Weights(in TW w);

    /// <summary>The 32 weights as one vector.</summary>
    static abstract Vector256<sbyte> Weights256(in TW w);

    /// <summary>The 32 activation quants, elements 0..15 and 16..31.</summary>
    static abstract (Vector128<sbyte> Low, Vector128<sbyte> High) Activations(in TA a);

    /// <summary>The 32 activation quants as one vector.</summary>
    static abstract Vector256<sbyte> Activations256(in TA a);

    /// <summary>d_w·d_a, the factor of the block's integer sum.</summary>
    static abstract float Scale(in TW w, in TA a);

    /// <summary>True when blocks add a constant term (<see cref="Offset"/>).</summary>
    static abstract bool HasOffset { get; }

    /// <summary>m_w·s_a, the block's constant term (s_a = d_a·Σq_a is stored in Q8_1 blocks).</summary>
    static abstract float Offset(in TW w, in TA a);
}

/// <summary>The SIMD loops of every 32-element block dot product (ggml's AVX2 structure: one FMA per block).</summary>
internal static class Int8BlockDot
{
    /// <summary>The dot product on <paramref name="level"/>; <see cref="SimdLevel.Scalar"/> is not handled here.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float On<TOps, TW, TA>(SimdLevel level, ReadOnlySpan<TW> x, ReadOnlySpan<TA> y)
        where TOps : IInt8BlockPair<TW, TA>
        where TW : unmanaged
        where TA : unmanaged => level switch
    {
        SimdLevel.Avx512 => Avx512<TOps, TW, TA>(x, y),
        SimdLevel.Avx2 => Avx2<TOps, TW, TA>(x, y),
        SimdLevel.Vector256 => OnVector256<TOps, TW, TA>(x, y),
        _ => OnVector128<TOps, TW, TA>(x, y),
    };

    private static float Avx2<TOps, TW, TA>(ReadOnlySpan<TW> x, ReadOnlySpan<TA> y)
        where TOps : IInt8BlockPair<TW, TA>
        where TW : unmanaged
        where TA : unmanaged
    {
        var acc = Vector256<float>.Zero;
        var summs = 0f;
        for (var i = 0; i < x.Length; i++)
        {
            ref readonly var w = ref x[i];
            ref readonly var a = ref y[i];
            var sums = Int8Dot.Avx2Sum(TOps.Weights256(in w), TOps.Activations256(in a));
            acc = Fma.MultiplyAdd(Vector256.Create(TOps.Scale(in w, in a)), Avx.ConvertToVector256Single(sums), acc);
            if (TOps.HasOffset)
                summs += TOps.Offset(in w, in a);
        }
        return Int8Dot.HorizontalSum(acc) + summs;
    }

    private static float Avx512<TOps, TW, TA>(ReadOnlySpan<TW> x, ReadOnlySpan<TA> y)
        where TOps : IInt8BlockPair<TW, TA>
        where TW : unmanaged
        where TA : unmanaged
    {
        // Two blocks per 512-bit register: block i in the low half, block i+1 in the high half.
        var acc = Vector512<float>.Zero;
        var summs = 0f;
        var i = 0;
        for (; i + 1 < x.Length; i += 2)
        {
            ref readonly var w0 = ref x[i];
            ref readonly var w1 = ref x[i + 1];
            ref readonly var a0 = ref y[i];
            ref readonly var a1 = ref y[i + 1];
            var d = Vector512.Create(Vector256.Create(TOps.Scale(in w0, in a0)), Vector256.Create(TOps.Scale(in w1, in a1)));
            var qw = Vector512.Create(TOps.Weights256(in w0), TOps.Weights256(in w1));
            var qa = Vector512.Create(TOps.Activations256(in a0), TOps.Activations256(in a1));
            acc = Avx512F.FusedMultiplyAdd(d, Avx512F.ConvertToVector512Single(Int8Dot.Avx512Sum(qw, qa)), acc);
            if (TOps.HasOffset)
                summs += TOps.Offset(in w0, in a0) + TOps.Offset(in w1, in a1);
        }
        var acc8 = acc.GetLower() + acc.GetUpper();
        if (i < x.Length)
        {
            ref readonly var w = ref x[i];
            ref readonly var a = ref y[i];
            var sums = Int8Dot.Avx2Sum(TOps.Weights256(in w), TOps.Activations256(in a));
            acc8 = Fma.MultiplyAdd(Vector256.Create(TOps.Scale(in w, in a)), Avx.ConvertToVector256Single(sums), acc8);
            if (TOps.HasOffset)
                summs += TOps.Offset(in w, in a);
        }
        return Int8Dot.HorizontalSum(acc8) + summs;
    }

    private static float OnVector256<TOps, TW, TA>(ReadOnlySpan<TW> x, ReadOnlySpan<TA> y)
        where TOps : IInt8BlockPair<TW, TA>
        where TW : unmanaged
        where TA : unmanaged
    {
        var acc = Vector256<float>.Zero;
        var summs = 0f;
        for (var i = 0; i < x.Length; i++)
        {
            ref readonly var w = ref x[i];
            ref readonly var a = ref y[i];
            var sums = Int8Dot.Vector256Sum(TOps.Weights256(in w), TOps.Activations256(in a));
            acc += Vector256.Create(TOps.Scale(in w, in a)) * Vector256.ConvertToSingle(sums);
            if (TOps.HasOffset)
                summs += TOps.Offset(in w, in a);
        }
        return Vector256.Sum(acc) + summs;
    }

    private static float OnVector128<TOps, TW, TA>(ReadOnlySpan<TW> x, ReadOnlySpan<TA> y)
        where TOps : IInt8BlockPair<TW, TA>
        where TW : unmanaged
        where TA : unmanaged
    {
        var acc = Vector128<float>.Zero;
        var summs = 0f;
        for (var i = 0; i < x.Length; i++)
        {
            ref readonly var w = ref x[i];
            ref readonly var a = ref y[i];
            var (w0, w1) = TOps.Weights(in w);
            var (a0, a1) = TOps.Activations(in a);
            acc += Vector128.Create(TOps.Scale(in w, in a)) * Vector128.ConvertToSingle(Int8Dot.Vector128Sum(w0, w1, a0, a1));
            if (TOps.HasOffset)
                summs += TOps.Offset(in w, in a);
        }
        return Vector128.Sum(acc) + summs;
    }
}
