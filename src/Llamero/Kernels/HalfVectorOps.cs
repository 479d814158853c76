using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>
/// The vector primitives of attention over an F16 KV cache: halves widened exactly to float (<see cref="Fp16"/>'s
/// vector conversion, no F16C intrinsic in .NET) and combined with float vectors in one pass. Each has a scalar
/// specification and Vector128/Vector256 paths picked by <see cref="SimdLevel"/>. Whole rows convert with
/// <see cref="Fp16.ToSingle"/> and <see cref="Fp16.FromSingle"/>.
/// </summary>
internal static class HalfVectorOps
{
    /// <summary>Σ x[i]·float(h[i]) over x.Length elements.</summary>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<ushort> h, SimdLevel level)
    {
        var n = x.Length;
        if (h.Length < n)
            throw new ArgumentException($"Dot: {n} floats against {h.Length} halves.", nameof(h));
        ref var px = ref MemoryMarshal.GetReference(x);
        ref var ph = ref MemoryMarshal.GetReference(h);
        var i = 0;
        var sum = 0f;
        if (level >= SimdLevel.Vector256 && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), Widen8(ref ph, i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)(i + 8)), Widen8(ref ph, i + 8), acc1);
            }
            for (; i <= n - 8; i += 8)
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), Widen8(ref ph, i), acc0);
            sum = Vector256.Sum(acc0 + acc1);
        }
        else if (level >= SimdLevel.Vector128 && n >= 4)
        {
            var acc = Vector128<float>.Zero;
            for (; i <= n - 4; i += 4)
                acc = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref px, (nuint)i), Widen4(ref ph, i), acc);
            sum = Vector128.Sum(acc);
        }
        for (; i < n; i++)
            sum += Unsafe.Add(ref px, i) * Fp16.ToFloat(Unsafe.Add(ref ph, i));
        return sum;
    }

    /// <summary>y[i] += float(h[i])·scale over y.Length elements.</summary>
    public static void MultiplyAdd(ReadOnlySpan<ushort> h, float scale, Span<float> y, SimdLevel level)
    {
        var n = y.Length;
        if (h.Length < n)
            throw new ArgumentException($"MultiplyAdd: {h.Length} halves into {n} floats.", nameof(h));
        ref var py = ref MemoryMarshal.GetReference(y);
        ref var ph = ref MemoryMarshal.GetReference(h);
        var i = 0;
        if (level >= SimdLevel.Vector256)
        {
            var s = Vector256.Create(scale);
            for (; i <= n - 8; i += 8)
                Vector256.FusedMultiplyAdd(Widen8(ref ph, i), s, Vector256.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        if (level >= SimdLevel.Vector128)
        {
            var s = Vector128.Create(scale);
            for (; i <= n - 4; i += 4)
                Vector128.FusedMultiplyAdd(Widen4(ref ph, i), s, Vector128.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref py, i) = MathF.FusedMultiplyAdd(Fp16.ToFloat(Unsafe.Add(ref ph, i)), scale, Unsafe.Add(ref py, i));
    }

    /// <summary>Replaces each value by its nearest half, widened back: what ggml's conversion of a matmul operand to
    /// F16 does to it.</summary>
    public static void RoundThroughHalf(Span<float> x)
    {
        for (var i = 0; i < x.Length; i++)
            x[i] = Fp16.ToFloat(Fp16.FromFloat(x[i]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen8(ref ushort h, int i)
    {
        var halves = Vector128.LoadUnsafe(ref h, (nuint)i);
        return Fp16.ToFloat(Vector256.Create(Vector128.WidenLower(halves), Vector128.WidenUpper(halves)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Widen4(ref ushort h, int i)
    {
        var halves = Vector64.LoadUnsafe(ref h, (nuint)i);
        return Fp16.ToFloat(Vector128.Create(Vector64.WidenLower(halves), Vector64.WidenUpper(halves)));
    }
}
