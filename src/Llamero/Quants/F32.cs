using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>F32: plain IEEE singles. Dotted with F32 activations (ggml_vec_dot_f32).</summary>
public readonly struct F32 : IQuantFormat, ISimdDot
{
    /// <inheritdoc />
    public static GgmlType Type => GgmlType.F32;

    /// <inheritdoc />
    public static GgmlType DotPartner => GgmlType.F32;

    /// <inheritdoc />
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) =>
        BlockRows.Read<float>(src, dst.Length, 1, Type).CopyTo(dst);

    /// <inheritdoc />
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) =>
        src.CopyTo(BlockRows.Write<float>(dst, src.Length, 1, Type));

    /// <inheritdoc />
    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotOn(SimdPath.Current, weights, activations, n);

    /// <inheritdoc />
    static float ISimdDot.DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotOn(level, weights, activations, n);

    internal static float DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        var x = BlockRows.Read<float>(weights, n, 1, Type);
        var y = BlockRows.Read<float>(activations, n, 1, Type);
        return level switch
        {
            SimdLevel.Avx512 => FloatDot.OnAvx512(x, y),
            SimdLevel.Avx2 => FloatDot.OnAvx2(x, y),
            SimdLevel.Vector256 => FloatDot.OnVector256(x, y),
            SimdLevel.Vector128 => FloatDot.OnVector128(x, y),
            _ => FloatDot.Reference(x, y),
        };
    }

    /// <summary>ggml's scalar ggml_vec_dot_f32: float products summed in double.</summary>
    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        FloatDot.Reference(BlockRows.Read<float>(weights, n, 1, Type), BlockRows.Read<float>(activations, n, 1, Type));
}

/// <summary>
/// Float dot products in ggml's shapes: the AVX2 path keeps four 8-wide FMA accumulators over 32-element steps,
/// reduces them pairwise and finishes the tail in scalar, as ggml_vec_dot_f32's AVX2 build does.
/// </summary>
internal static class FloatDot
{
    /// <summary>Products rounded to float, summed in double (ggml without SIMD).</summary>
    public static float Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        var sum = 0.0;
        for (var i = 0; i < x.Length; i++)
            sum += x[i] * y[i];
        return (float)sum;
    }

    public static float OnAvx2(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        var n = x.Length;
        var np = n & ~31;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (var i = 0; i < np; i += 32)
        {
            s0 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref py, (nuint)i), s0);
            s1 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i + 8), Vector256.LoadUnsafe(ref py, (nuint)i + 8), s1);
            s2 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i + 16), Vector256.LoadUnsafe(ref py, (nuint)i + 16), s2);
            s3 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i + 24), Vector256.LoadUnsafe(ref py, (nuint)i + 24), s3);
        }
        return Tail(x, y, np, Reduce(s0, s1, s2, s3));
    }

    /// <summary>
    /// ggml's scalar leftovers loop as GCC compiled it in the AVX2 build: vectorised products (no FMA) added in
    /// order for every whole group of four, then fused multiply-adds for the last one to three elements.
    /// </summary>
    public static float Tail(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int start, float sumf)
    {
        var n = x.Length;
        var plainEnd = start + ((n - start) & ~3);
        var i = start;
        for (; i < plainEnd; i++)
        {
            var p = x[i] * y[i];
            sumf += p;
        }
        for (; i < n; i++)
            sumf = MathF.FusedMultiplyAdd(x[i], y[i], sumf);
        return sumf;
    }

    /// <summary>ggml's GGML_F32x8_REDUCE: (s0+s2)+(s1+s3), halves added, then two horizontal adds.</summary>
    public static float Reduce(Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3)
    {
        var v = (s0 + s2) + (s1 + s3);
        var t0 = Sse.Add(v.GetLower(), v.GetUpper());
        var t1 = Sse3.HorizontalAdd(t0, t0);
        return Sse3.HorizontalAdd(t1, t1).ToScalar();
    }

    public static float OnAvx512(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        var n = x.Length;
        var np = n & ~63;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (var i = 0; i < np; i += 64)
        {
            s0 = Avx512F.FusedMultiplyAdd(Vector512.LoadUnsafe(ref px, (nuint)i), Vector512.LoadUnsafe(ref py, (nuint)i), s0);
            s1 = Avx512F.FusedMultiplyAdd(Vector512.LoadUnsafe(ref px, (nuint)i + 16), Vector512.LoadUnsafe(ref py, (nuint)i + 16), s1);
            s2 = Avx512F.FusedMultiplyAdd(Vector512.LoadUnsafe(ref px, (nuint)i + 32), Vector512.LoadUnsafe(ref py, (nuint)i + 32), s2);
            s3 = Avx512F.FusedMultiplyAdd(Vector512.LoadUnsafe(ref px, (nuint)i + 48), Vector512.LoadUnsafe(ref py, (nuint)i + 48), s3);
        }
        var v = (s0 + s2) + (s1 + s3);
        var sumf = Vector512.Sum(v);
        for (var i = np; i < n; i++)
            sumf = MathF.FusedMultiplyAdd(x[i], y[i], sumf);
        return sumf;
    }

    public static float OnVector256(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        var n = x.Length;
        var np = n & ~31;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (var i = 0; i < np; i += 32)
        {
            s0 += Vector256.LoadUnsafe(ref px, (nuint)i) * Vector256.LoadUnsafe(ref py, (nuint)i);
            s1 += Vector256.LoadUnsafe(ref px, (nuint)i + 8) * Vector256.LoadUnsafe(ref py, (nuint)i + 8);
            s2 += Vector256.LoadUnsafe(ref px, (nuint)i + 16) * Vector256.LoadUnsafe(ref py, (nuint)i + 16);
            s3 += Vector256.LoadUnsafe(ref px, (nuint)i + 24) * Vector256.LoadUnsafe(ref py, (nuint)i + 24);
        }
        var sumf = Vector256.Sum((s0 + s2) + (s1 + s3));
        for (var i = np; i < n; i++)
            sumf += x[i] * y[i];
        return sumf;
    }

    public static float OnVector128(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        var n = x.Length;
        var np = n & ~15;
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (var i = 0; i < np; i += 16)
        {
            s0 += Vector128.LoadUnsafe(ref px, (nuint)i) * Vector128.LoadUnsafe(ref py, (nuint)i);
            s1 += Vector128.LoadUnsafe(ref px, (nuint)i + 4) * Vector128.LoadUnsafe(ref py, (nuint)i + 4);
            s2 += Vector128.LoadUnsafe(ref px, (nuint)i + 8) * Vector128.LoadUnsafe(ref py, (nuint)i + 8);
            s3 += Vector128.LoadUnsafe(ref px, (nuint)i + 12) * Vector128.LoadUnsafe(ref py, (nuint)i + 12);
        }
        var sumf = Vector128.Sum((s0 + s2) + (s1 + s3));
        for (var i = np; i < n; i++)
            sumf += x[i] * y[i];
        return sumf;
    }
}
