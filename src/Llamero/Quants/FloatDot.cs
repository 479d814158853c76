using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Kernels;

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

    /// <summary>Elements i..i+7 on AVX2, by the cheapest conversion that is exact for finite values (F16: see
    /// <see cref="Fp16.ToFloatFinite"/>); the loop checks <see cref="Track"/> when <see cref="MayNeedExactPass"/>.</summary>
    static abstract Vector256<float> LoadFast256(ref T p, nuint i);

    /// <summary>True when <see cref="LoadFast256"/> can be wrong (for infinities and NaNs).</summary>
    static abstract bool MayNeedExactPass { get; }

    /// <summary>Folds elements i..i+15 into <paramref name="max"/>; <see cref="NeedsExactPass"/> says whether one
    /// of them defeats <see cref="LoadFast256"/>.</summary>
    static abstract Vector256<ushort> Track(Vector256<ushort> max, ref T p, nuint i);

    /// <summary>True when a <see cref="Track"/> accumulator saw an element <see cref="LoadFast256"/> gets wrong.</summary>
    static abstract bool NeedsExactPass(Vector256<ushort> max);

    /// <summary>The end of the format's AVX2 dot after the 32-element loop: reduce the four accumulators and add
    /// elements [np, length) the way its ggml function does.</summary>
    static abstract float FinishAvx2(ReadOnlySpan<T> x, ReadOnlySpan<T> y, int np, in Avx2FloatSums sums);
}

/// <summary>The four 8-wide accumulators of ggml's AVX2 float dot (elements i..i+7, +8.., +16.., +24.. of each step).</summary>
internal readonly struct Avx2FloatSums(Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3)
{
    public readonly Vector256<float> S0 = s0, S1 = s1, S2 = s2, S3 = s3;
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

    /// <summary>ggml's AVX2 float dot: four FMA accumulators over 32-element steps, then the format's finish.
    /// Converts with <see cref="IFloatElements{T}.LoadFast256"/> and redoes the sums exactly when an element needs it.</summary>
    public static float Avx2<TE, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        var np = x.Length & ~31;
        if (!TE.MayNeedExactPass)
            return TE.FinishAvx2(x, y, np, Avx2FastSums<TE, T>(x, y, np, out _));
        var sums = Avx2FastSums<TE, T>(x, y, np, out var max);
        if (TE.NeedsExactPass(max))
        {
            var (s0, s1, s2, s3) = Avx2Sums<TE, T>(x, y, np);
            sums = new Avx2FloatSums(s0, s1, s2, s3);
        }
        return TE.FinishAvx2(x, y, np, sums);
    }

    private static Avx2FloatSums Avx2FastSums<TE, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, int np, out Vector256<ushort> max)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        var m = Vector256<ushort>.Zero;
        for (nuint i = 0; i < (nuint)np; i += 32)
        {
            if (TE.MayNeedExactPass)
                m = TE.Track(TE.Track(TE.Track(TE.Track(m, ref px, i), ref px, i + 16), ref py, i), ref py, i + 16);
            s0 = Fma.MultiplyAdd(TE.LoadFast256(ref px, i), TE.LoadFast256(ref py, i), s0);
            s1 = Fma.MultiplyAdd(TE.LoadFast256(ref px, i + 8), TE.LoadFast256(ref py, i + 8), s1);
            s2 = Fma.MultiplyAdd(TE.LoadFast256(ref px, i + 16), TE.LoadFast256(ref py, i + 16), s2);
            s3 = Fma.MultiplyAdd(TE.LoadFast256(ref px, i + 24), TE.LoadFast256(ref py, i + 24), s3);
        }
        max = m;
        return new Avx2FloatSums(s0, s1, s2, s3);
    }

    /// <summary>
    /// The AVX2 batch: the weight row <paramref name="x"/> against <paramref name="count"/> rows of as many elements
    /// (<paramref name="stride"/> elements apart), two rows per pass so each weight vector is converted once for
    /// both; every result bit-identical to <see cref="Avx2{TE,T}"/> of the same rows.
    /// </summary>
    public static void Avx2Batch<TE, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> rows, int stride, int count, Span<float> results, int resultStride)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        var n = x.Length;
        var np = n & ~31;
        ref var px = ref MemoryMarshal.GetReference(x);
        var r = 0;
        for (; r + 2 <= count; r += 2)
        {
            var y0 = rows.Slice(r * stride, n);
            var y1 = rows.Slice((r + 1) * stride, n);
            ref var p0 = ref MemoryMarshal.GetReference(y0);
            ref var p1 = ref MemoryMarshal.GetReference(y1);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            var m = Vector256<ushort>.Zero;
            for (nuint i = 0; i < (nuint)np; i += 32)
            {
                if (TE.MayNeedExactPass)
                {
                    m = TE.Track(TE.Track(TE.Track(m, ref px, i), ref px, i + 16), ref p0, i);
                    m = TE.Track(TE.Track(TE.Track(m, ref p0, i + 16), ref p1, i), ref p1, i + 16);
                }
                var w = TE.LoadFast256(ref px, i);
                a0 = Fma.MultiplyAdd(w, TE.LoadFast256(ref p0, i), a0);
                b0 = Fma.MultiplyAdd(w, TE.LoadFast256(ref p1, i), b0);
                w = TE.LoadFast256(ref px, i + 8);
                a1 = Fma.MultiplyAdd(w, TE.LoadFast256(ref p0, i + 8), a1);
                b1 = Fma.MultiplyAdd(w, TE.LoadFast256(ref p1, i + 8), b1);
                w = TE.LoadFast256(ref px, i + 16);
                a2 = Fma.MultiplyAdd(w, TE.LoadFast256(ref p0, i + 16), a2);
                b2 = Fma.MultiplyAdd(w, TE.LoadFast256(ref p1, i + 16), b2);
                w = TE.LoadFast256(ref px, i + 24);
                a3 = Fma.MultiplyAdd(w, TE.LoadFast256(ref p0, i + 24), a3);
                b3 = Fma.MultiplyAdd(w, TE.LoadFast256(ref p1, i + 24), b3);
            }
            if (TE.MayNeedExactPass && TE.NeedsExactPass(m))
            {
                results[r * resultStride] = Avx2<TE, T>(x, y0);
                results[(r + 1) * resultStride] = Avx2<TE, T>(x, y1);
                continue;
            }
            results[r * resultStride] = TE.FinishAvx2(x, y0, np, new Avx2FloatSums(a0, a1, a2, a3));
            results[(r + 1) * resultStride] = TE.FinishAvx2(x, y1, np, new Avx2FloatSums(b0, b1, b2, b3));
        }
        if (r < count)
            results[r * resultStride] = Avx2<TE, T>(x, rows.Slice(r * stride, n));
    }

    /// <summary><see cref="IQuantFormat.DotBatch"/> of a float format on <paramref name="level"/>: two rows per pass on
    /// AVX2, Vector256 and Vector128; one <see cref="ISimdDot.DotOn"/> per row on the scalar and AVX-512 paths.</summary>
    public static void DotBatch<TF, T>(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int stride, int count,
        int n, Span<float> results, int resultStride)
        where TF : IQuantFormat, ISimdDot, IFloatElements<T>
        where T : unmanaged
    {
        BatchDot.Check<TF>(activations, stride, count, n, results, resultStride);
        var size = Unsafe.SizeOf<T>();
        if (level is SimdLevel.Scalar or SimdLevel.Avx512 || stride % size != 0)
        {
            for (var r = 0; r < count; r++)
                results[r * resultStride] = TF.DotOn(level, weights, activations.Slice(r * stride, n * size), n);
            return;
        }
        var x = BlockRows.Read<T>(weights, n, 1, TF.Type);
        var rows = MemoryMarshal.Cast<byte, T>(activations);
        if (level == SimdLevel.Avx2)
        {
            Avx2Batch<TF, T>(x, rows, stride / size, count, results, resultStride);
            return;
        }
        // The portable paths, two rows per pass (each weight vector loaded and widened once).
        var r2 = 0;
        for (; r2 + 2 <= count; r2 += 2)
        {
            var y0 = rows.Slice(r2 * stride / size, n);
            var y1 = rows.Slice((r2 + 1) * stride / size, n);
            var (d0, d1) = level == SimdLevel.Vector256 ? OnVector256Pair<TF, T>(x, y0, y1) : OnVector128Pair<TF, T>(x, y0, y1);
            results[r2 * resultStride] = d0;
            results[(r2 + 1) * resultStride] = d1;
        }
        if (r2 < count)
            results[r2 * resultStride] = TF.DotOn(level, weights, activations.Slice(r2 * stride, n * size), n);
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

    /// <summary><see cref="OnVector256{TE,T}"/> of two rows at once, each result bit-identical to it.</summary>
    private static (float, float) OnVector256Pair<TE, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y0, ReadOnlySpan<T> y1)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var p0 = ref MemoryMarshal.GetReference(y0);
        ref var p1 = ref MemoryMarshal.GetReference(y1);
        var np = x.Length & ~31;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        for (nuint i = 0; i < (nuint)np; i += 32)
        {
            var w = TE.Load256(ref px, i);
            a0 += w * TE.Load256(ref p0, i);
            b0 += w * TE.Load256(ref p1, i);
            w = TE.Load256(ref px, i + 8);
            a1 += w * TE.Load256(ref p0, i + 8);
            b1 += w * TE.Load256(ref p1, i + 8);
            w = TE.Load256(ref px, i + 16);
            a2 += w * TE.Load256(ref p0, i + 16);
            b2 += w * TE.Load256(ref p1, i + 16);
            w = TE.Load256(ref px, i + 24);
            a3 += w * TE.Load256(ref p0, i + 24);
            b3 += w * TE.Load256(ref p1, i + 24);
        }
        return (DoubleTail<TE, T>(x, y0, np, Vector256.Sum((a0 + a2) + (a1 + a3))),
            DoubleTail<TE, T>(x, y1, np, Vector256.Sum((b0 + b2) + (b1 + b3))));
    }

    /// <summary><see cref="OnVector128{TE,T}"/> of two rows at once, each result bit-identical to it.</summary>
    private static (float, float) OnVector128Pair<TE, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y0, ReadOnlySpan<T> y1)
        where TE : IFloatElements<T>
        where T : unmanaged
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var p0 = ref MemoryMarshal.GetReference(y0);
        ref var p1 = ref MemoryMarshal.GetReference(y1);
        var np = x.Length & ~15;
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector128<float> b0 = default, b1 = default, b2 = default, b3 = default;
        for (nuint i = 0; i < (nuint)np; i += 16)
        {
            var w = TE.Load128(ref px, i);
            a0 += w * TE.Load128(ref p0, i);
            b0 += w * TE.Load128(ref p1, i);
            w = TE.Load128(ref px, i + 4);
            a1 += w * TE.Load128(ref p0, i + 4);
            b1 += w * TE.Load128(ref p1, i + 4);
            w = TE.Load128(ref px, i + 8);
            a2 += w * TE.Load128(ref p0, i + 8);
            b2 += w * TE.Load128(ref p1, i + 8);
            w = TE.Load128(ref px, i + 12);
            a3 += w * TE.Load128(ref p0, i + 12);
            b3 += w * TE.Load128(ref p1, i + 12);
        }
        return (DoubleTail<TE, T>(x, y0, np, Vector128.Sum((a0 + a2) + (a1 + a3))),
            DoubleTail<TE, T>(x, y1, np, Vector128.Sum((b0 + b2) + (b1 + b3))));
    }
}
