using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Llamero.Kernels;

/// <summary>
/// The float vector primitives the non-matmul kernels are made of (dot, sum of squares, scaled add, max, scale).
/// Each has a scalar specification and Vector128/Vector256 paths; <see cref="SimdLevel"/> picks one.
/// System.Numerics.Tensors is a separate package in .NET 10 (not in the shared framework), so these are our own.
/// Levels above Vector256 use the Vector256 code: these loops are memory-bound and gain nothing from 512 bits here.
/// The hot kernels of this folder are marked AggressiveOptimization: at tier 0 every Vector256 operation is a call,
/// which made the first few hundred tokens of a small model ten times slower than the rest.
/// </summary>
internal static class VectorOps
{
    /// <summary>Σ a[i]·b[i] over a.Length elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, SimdLevel level)
    {
        var n = a.Length;
        if (b.Length < n)
            ThrowLength(nameof(b));
        ref var pa = ref MemoryMarshal.GetReference(a);
        ref var pb = ref MemoryMarshal.GetReference(b);
        var i = 0;
        var sum = 0f;
        if (level >= SimdLevel.Vector256 && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)(i + 8)), Vector256.LoadUnsafe(ref pb, (nuint)(i + 8)), acc1);
            }
            for (; i <= n - 8; i += 8)
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), acc0);
            sum = Vector256.Sum(acc0 + acc1);
        }
        else if (level >= SimdLevel.Vector128 && n >= 4)
        {
            var acc = Vector128<float>.Zero;
            for (; i <= n - 4; i += 4)
                acc = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref pa, (nuint)i), Vector128.LoadUnsafe(ref pb, (nuint)i), acc);
            sum = Vector128.Sum(acc);
        }
        for (; i < n; i++)
            sum += Unsafe.Add(ref pa, i) * Unsafe.Add(ref pb, i);
        return sum;
    }

    /// <summary>Σ x[i]² as ggml's rms_norm computes it: each square rounded to float, the sum accumulated in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumOfSquares(ReadOnlySpan<float> x, SimdLevel level)
    {
        var n = x.Length;
        ref var px = ref MemoryMarshal.GetReference(x);
        var i = 0;
        var sum = 0.0;
        if (level >= SimdLevel.Vector256 && n >= 8)
        {
            // Square in float, widen to double pairs of 4 so the sum keeps ggml's double accumulation.
            var acc = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref px, (nuint)i);
                var (lo, hi) = Vector256.Widen(v * v);
                acc += lo + hi;
            }
            sum = Vector256.Sum(acc);
        }
        else if (level >= SimdLevel.Vector128 && n >= 4)
        {
            var acc = Vector128<double>.Zero;
            for (; i <= n - 4; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref px, (nuint)i);
                var (lo, hi) = Vector128.Widen(v * v);
                acc += lo + hi;
            }
            sum = Vector128.Sum(acc);
        }
        for (; i < n; i++)
        {
            var v = Unsafe.Add(ref px, i);
            sum += v * v;
        }
        return sum;
    }

    /// <summary>y[i] += a·x[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(ReadOnlySpan<float> x, float a, Span<float> y, SimdLevel level)
    {
        var n = y.Length;
        if (x.Length < n)
            ThrowLength(nameof(x));
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        var i = 0;
        if (level >= SimdLevel.Vector256)
        {
            var va = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), va, Vector256.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        else if (level >= SimdLevel.Vector128)
        {
            var va = Vector128.Create(a);
            for (; i <= n - 4; i += 4)
                Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref px, (nuint)i), va, Vector128.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref py, i) += a * Unsafe.Add(ref px, i);
    }

    /// <summary>y[i] = x[i]·a·w[i] (the RMSNorm output step).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleMultiply(ReadOnlySpan<float> x, float a, ReadOnlySpan<float> w, Span<float> y, SimdLevel level)
    {
        var n = y.Length;
        if (x.Length < n || w.Length < n)
            ThrowLength(x.Length < n ? nameof(x) : nameof(w));
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var pw = ref MemoryMarshal.GetReference(w);
        ref var py = ref MemoryMarshal.GetReference(y);
        var i = 0;
        if (level >= SimdLevel.Vector256)
        {
            var va = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref px, (nuint)i) * va * Vector256.LoadUnsafe(ref pw, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        else if (level >= SimdLevel.Vector128)
        {
            var va = Vector128.Create(a);
            for (; i <= n - 4; i += 4)
                (Vector128.LoadUnsafe(ref px, (nuint)i) * va * Vector128.LoadUnsafe(ref pw, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref py, i) = Unsafe.Add(ref px, i) * a * Unsafe.Add(ref pw, i);
    }

    /// <summary>y[i] += x[i] (residual connections).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(ReadOnlySpan<float> x, Span<float> y, SimdLevel level)
    {
        var n = y.Length;
        if (x.Length < n)
            ThrowLength(nameof(x));
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var py = ref MemoryMarshal.GetReference(y);
        var i = 0;
        if (level >= SimdLevel.Vector256)
        {
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref px, (nuint)i) + Vector256.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        else if (level >= SimdLevel.Vector128)
        {
            for (; i <= n - 4; i += 4)
                (Vector128.LoadUnsafe(ref px, (nuint)i) + Vector128.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref py, i) += Unsafe.Add(ref px, i);
    }

    /// <summary>The largest element (−∞ for an empty span).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max(ReadOnlySpan<float> x, SimdLevel level)
    {
        var n = x.Length;
        ref var px = ref MemoryMarshal.GetReference(x);
        var i = 0;
        var max = float.NegativeInfinity;
        if (level >= SimdLevel.Vector256 && n >= 8)
        {
            var acc = Vector256.Create(float.NegativeInfinity);
            for (; i <= n - 8; i += 8)
                acc = Vector256.Max(acc, Vector256.LoadUnsafe(ref px, (nuint)i));
            for (var j = 0; j < 8; j++)
                max = MathF.Max(max, acc[j]);
        }
        else if (level >= SimdLevel.Vector128 && n >= 4)
        {
            var acc = Vector128.Create(float.NegativeInfinity);
            for (; i <= n - 4; i += 4)
                acc = Vector128.Max(acc, Vector128.LoadUnsafe(ref px, (nuint)i));
            for (var j = 0; j < 4; j++)
                max = MathF.Max(max, acc[j]);
        }
        for (; i < n; i++)
            max = MathF.Max(max, Unsafe.Add(ref px, i));
        return max;
    }

    /// <summary>x[i] *= a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(Span<float> x, float a, SimdLevel level)
    {
        var n = x.Length;
        ref var px = ref MemoryMarshal.GetReference(x);
        var i = 0;
        if (level >= SimdLevel.Vector256)
        {
            var va = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
                (Vector256.LoadUnsafe(ref px, (nuint)i) * va).StoreUnsafe(ref px, (nuint)i);
        }
        else if (level >= SimdLevel.Vector128)
        {
            var va = Vector128.Create(a);
            for (; i <= n - 4; i += 4)
                (Vector128.LoadUnsafe(ref px, (nuint)i) * va).StoreUnsafe(ref px, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref px, i) *= a;
    }

    /// <summary>x[i] = exp(x[i] − max), returning Σ of the results accumulated in double (ggml's soft_max does the same).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double ExpSubtractSum(Span<float> x, float max, SimdLevel level)
    {
        var n = x.Length;
        ref var px = ref MemoryMarshal.GetReference(x);
        var i = 0;
        var sum = 0.0;
        if (level >= SimdLevel.Vector256)
        {
            var vm = Vector256.Create(max);
            var acc = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var e = Vector256.Exp(Vector256.LoadUnsafe(ref px, (nuint)i) - vm);
                e.StoreUnsafe(ref px, (nuint)i);
                var (lo, hi) = Vector256.Widen(e);
                acc += lo + hi;
            }
            sum = Vector256.Sum(acc);
        }
        else if (level >= SimdLevel.Vector128)
        {
            var vm = Vector128.Create(max);
            var acc = Vector128<double>.Zero;
            for (; i <= n - 4; i += 4)
            {
                var e = Vector128.Exp(Vector128.LoadUnsafe(ref px, (nuint)i) - vm);
                e.StoreUnsafe(ref px, (nuint)i);
                var (lo, hi) = Vector128.Widen(e);
                acc += lo + hi;
            }
            sum = Vector128.Sum(acc);
        }
        for (; i < n; i++)
        {
            var e = MathF.Exp(Unsafe.Add(ref px, i) - max);
            Unsafe.Add(ref px, i) = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>gate[i] = silu(gate[i])·up[i] with silu(x) = x / (1 + e^−x): the SwiGLU feed-forward activation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up, SimdLevel level)
    {
        var n = gate.Length;
        if (up.Length < n)
            ThrowLength(nameof(up));
        ref var pg = ref MemoryMarshal.GetReference(gate);
        ref var pu = ref MemoryMarshal.GetReference(up);
        var i = 0;
        if (level >= SimdLevel.Vector256)
        {
            var one = Vector256<float>.One;
            for (; i <= n - 8; i += 8)
            {
                var g = Vector256.LoadUnsafe(ref pg, (nuint)i);
                (g / (one + Vector256.Exp(-g)) * Vector256.LoadUnsafe(ref pu, (nuint)i)).StoreUnsafe(ref pg, (nuint)i);
            }
        }
        else if (level >= SimdLevel.Vector128)
        {
            var one = Vector128<float>.One;
            for (; i <= n - 4; i += 4)
            {
                var g = Vector128.LoadUnsafe(ref pg, (nuint)i);
                (g / (one + Vector128.Exp(-g)) * Vector128.LoadUnsafe(ref pu, (nuint)i)).StoreUnsafe(ref pg, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            var g = Unsafe.Add(ref pg, i);
            Unsafe.Add(ref pg, i) = g / (1f + MathF.Exp(-g)) * Unsafe.Add(ref pu, i);
        }
    }

    private static void ThrowLength(string name) =>
        throw new ArgumentException($"Span {name} is shorter than the output.", name);
}
