using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

/// <summary>How to read one float storage type (float, fp16 bits, bf16 bits) as floats, scalar and vector.</summary>
internal interface IFloatElements<T>
    where T : unmanaged
{
    static abstract float ToFloat(T v);

    /// <summary>Elements i..i+7.</summary>
    static abstract Vector256<float> Load256(ref T p, nuint i);

    /// <summary>Elements i..i+3.</summary>
    static abstract Vector128<float> Load128(ref T p, nuint i);

    /// <summary>Elements i..i+15.</summary>
    static abstract Vector512<float> Load512(ref T p, nuint i);
}

/// <summary>
/// Dot products of float rows (F32, F16, BF16) in ggml's shapes. The SIMD paths keep four accumulators over
/// 32-element steps (64 on AVX-512), as ggml_vec_dot_f32/f16/bf16 do; each format finishes the sum and the
/// tail the way its ggml function does (see the callers).
/// </summary>
internal static class FloatDot
{
    /// <summary>ggml's scalar dot: products rounded to float, summed in double.</summary>
    public static float Reference<TE, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        var sum = 0.0;
        for (var i = 0; i < x.Length; i++)
            sum += TE.ToFloat(x[i]) * TE.ToFloat(y[i]);
        return (float)sum;
    }

    /// <summary>Four 8-wide FMA accumulators over elements [0, np), np a multiple of 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Avx2Sums<TE, T>(
        ReadOnlySpan<T> x, ReadOnlySpan<T> y, int np)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (nuint i = 0; i < (nuint)np; i += 32)
        {
            s0 = Fma.MultiplyAdd(TE.Load256(ref px, i), TE.Load256(ref py, i), s0);
            s1 = Fma.MultiplyAdd(TE.Load256(ref px, i + 8), TE.Load256(ref py, i + 8), s1);
            s2 = Fma.MultiplyAdd(TE.Load256(ref px, i + 16), TE.Load256(ref py, i + 16), s2);
            s3 = Fma.MultiplyAdd(TE.Load256(ref px, i + 24), TE.Load256(ref py, i + 24), s3);
        }
        return (s0, s1, s2, s3);
    }

    /// <summary>ggml's GGML_F32x8_REDUCE: (s0+s2)+(s1+s3), halves added, then two horizontal adds.</summary>
    public static float HaddReduce(Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3)
    {
        var v = (s0 + s2) + (s1 + s3);
        var t0 = Sse.Add(v.GetLower(), v.GetUpper());
        var t1 = Sse3.HorizontalAdd(t0, t0);
        return Sse3.HorizontalAdd(t1, t1).ToScalar();
    }

    /// <summary>Tail of the F16/BF16 functions: float products added to a double sum.</summary>
    public static float DoubleTail<TE, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, int start, double sumf)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        for (var i = start; i < x.Length; i++)
            sumf += TE.ToFloat(x[i]) * TE.ToFloat(y[i]);
        return (float)sumf;
    }

    /// <summary>AVX-512: four 16-wide accumulators over 64-element steps, the tail in double.</summary>
    public static float Avx512<TE, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        var np = x.Length & ~63;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (nuint i = 0; i < (nuint)np; i += 64)
        {
            s0 = Avx512F.FusedMultiplyAdd(TE.Load512(ref px, i), TE.Load512(ref py, i), s0);
            s1 = Avx512F.FusedMultiplyAdd(TE.Load512(ref px, i + 16), TE.Load512(ref py, i + 16), s1);
            s2 = Avx512F.FusedMultiplyAdd(TE.Load512(ref px, i + 32), TE.Load512(ref py, i + 32), s2);
            s3 = Avx512F.FusedMultiplyAdd(TE.Load512(ref px, i + 48), TE.Load512(ref py, i + 48), s3);
        }
        return DoubleTail<TE, T>(x, y, np, Vector512.Sum((s0 + s2) + (s1 + s3)));
    }

    /// <summary>Portable 256-bit: four accumulators (multiply then add), the tail in double.</summary>
    public static float OnVector256<TE, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        var np = x.Length & ~31;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (nuint i = 0; i < (nuint)np; i += 32)
        {
            s0 += TE.Load256(ref px, i) * TE.Load256(ref py, i);
            s1 += TE.Load256(ref px, i + 8) * TE.Load256(ref py, i + 8);
            s2 += TE.Load256(ref px, i + 16) * TE.Load256(ref py, i + 16);
            s3 += TE.Load256(ref px, i + 24) * TE.Load256(ref py, i + 24);
        }
        return DoubleTail<TE, T>(x, y, np, Vector256.Sum((s0 + s2) + (s1 + s3)));
    }

    /// <summary>Portable 128-bit: four accumulators over 16-element steps, the tail in double.</summary>
    public static float OnVector128<TE, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        var np = x.Length & ~15;
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (nuint i = 0; i < (nuint)np; i += 16)
        {
            s0 += TE.Load128(ref px, i) * TE.Load128(ref py, i);
            s1 += TE.Load128(ref px, i + 4) * TE.Load128(ref py, i + 4);
            s2 += TE.Load128(ref px, i + 8) * TE.Load128(ref py, i + 8);
            s3 += TE.Load128(ref px, i + 12) * TE.Load128(ref py, i + 12);
        }
        return DoubleTail<TE, T>(x, y, np, Vector128.Sum((s0 + s2) + (s1 + s3)));
    }
}
