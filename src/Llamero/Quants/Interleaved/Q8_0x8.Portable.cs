using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// The portable kernels of <see cref="Q8_0x8"/> (any CPU with 256- or 128-bit vectors). A slice read as int32 lanes holds
/// one row's four quants per lane; shifts sign-extend each byte in place and int32 multiplies by the four activation
/// quants add up each row's products, so the integer sums are exact and every lane is the scalar path's row.
/// </summary>
internal sealed partial class Q8_0x8
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Vector256Gemv(byte* w, byte* a, int blocks, float* y)
    {
        var acc = Vector256<float>.Zero;
        for (var k = 0; k < blocks; k++, w += PackedBlockBytes, a += PlainBlockBytes)
        {
            var sum = Vector256<int>.Zero;
            var qa = (sbyte*)(a + 2);
            for (var s = 0; s < Slices; s++, qa += 4)
                sum += SliceSum(Vector256.Load((int*)(w + ScaleBytes + s * SliceBytes)), qa);
            var (low, high) = Vector128.Widen(Vector128.Load((ushort*)w));
            var scale = Fp16.ToFloat(Vector256.Create(low, high)) * Vector256.Create(Fp16.ToFloat(*(ushort*)a));
            acc += scale * Vector256.ConvertToSingle(sum);
        }
        acc.Store(y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Vector128Gemv(byte* w, byte* a, int blocks, float* y)
    {
        Vector128<float> acc0 = default, acc1 = default;
        for (var k = 0; k < blocks; k++, w += PackedBlockBytes, a += PlainBlockBytes)
        {
            Vector128<int> sum0 = default, sum1 = default;
            var qa = (sbyte*)(a + 2);
            for (var s = 0; s < Slices; s++, qa += 4)
            {
                var slice = (int*)(w + ScaleBytes + s * SliceBytes);
                sum0 += SliceSum(Vector128.Load(slice), qa);
                sum1 += SliceSum(Vector128.Load(slice + 4), qa);
            }
            var (low, high) = Vector128.Widen(Vector128.Load((ushort*)w));
            var da = Vector128.Create(Fp16.ToFloat(*(ushort*)a));
            acc0 += Fp16.ToFloat(low) * da * Vector128.ConvertToSingle(sum0);
            acc1 += Fp16.ToFloat(high) * da * Vector128.ConvertToSingle(sum1);
        }
        acc0.Store(y);
        acc1.Store(y + 4);
    }

    /// <summary>Per int32 lane of <paramref name="q"/> (four signed quants of one row), Σ q_t·a_t over t = 0..3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> SliceSum(Vector256<int> q, sbyte* a) =>
        ((q << 24) >> 24) * Vector256.Create((int)a[0]) + ((q << 16) >> 24) * Vector256.Create((int)a[1])
        + ((q << 8) >> 24) * Vector256.Create((int)a[2]) + (q >> 24) * Vector256.Create((int)a[3]);

    /// <inheritdoc cref="SliceSum(Vector256{int}, sbyte*)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector128<int> SliceSum(Vector128<int> q, sbyte* a) =>
        ((q << 24) >> 24) * Vector128.Create((int)a[0]) + ((q << 16) >> 24) * Vector128.Create((int)a[1])
        + ((q << 8) >> 24) * Vector128.Create((int)a[2]) + (q >> 24) * Vector128.Create((int)a[3]);
}
