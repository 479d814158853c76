using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// The portable kernels of <see cref="Q8_0x8"/> (any CPU with 256- or 128-bit vectors). A slice read as int32 lanes holds
/// one row's four quants per lane; shifts sign-extend each byte in place (<see cref="Quants256"/>) and int32 multiplies
/// by the four activation quants add up each row's products, so the integer sums are exact and every lane is the scalar
/// path's row. The four-row tiles widen each slice once for four activation rows; each row's steps are its Gemv's.
/// </summary>
internal sealed partial class Q8_0x8
{
    /// <summary>The four quants of each lane of a slice, each sign-extended to a lane of its own.</summary>
    private readonly struct Quants256(Vector256<int> q)
    {
        public readonly Vector256<int> Q0 = (q << 24) >> 24, Q1 = (q << 16) >> 24, Q2 = (q << 8) >> 24, Q3 = q >> 24;

        /// <summary>Per lane, Σ q_t·a_t over the four activation quants at <paramref name="a"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe Vector256<int> Dot(sbyte* a) =>
            Q0 * Vector256.Create((int)a[0]) + Q1 * Vector256.Create((int)a[1]) + Q2 * Vector256.Create((int)a[2]) + Q3 * Vector256.Create((int)a[3]);
    }

    /// <summary><see cref="Quants256"/> for half a slice (four rows).</summary>
    private readonly struct Quants128(Vector128<int> q)
    {
        public readonly Vector128<int> Q0 = (q << 24) >> 24, Q1 = (q << 16) >> 24, Q2 = (q << 8) >> 24, Q3 = q >> 24;

        /// <inheritdoc cref="Quants256.Dot"/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe Vector128<int> Dot(sbyte* a) =>
            Q0 * Vector128.Create((int)a[0]) + Q1 * Vector128.Create((int)a[1]) + Q2 * Vector128.Create((int)a[2]) + Q3 * Vector128.Create((int)a[3]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Quants256 Slice256(byte* w, int s) => new(Vector256.Load((int*)(w + ScaleBytes + s * SliceBytes)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Quants128 Slice128(byte* w, int s, int half) => new(Vector128.Load((int*)(w + ScaleBytes + s * SliceBytes) + 4 * half));

    /// <summary>d_w of the eight rows (lanes) times d_a of the activation block at <paramref name="a"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Scales256(byte* w, byte* a)
    {
        var (low, high) = Vector128.Widen(Vector128.Load((ushort*)w));
        return Fp16.ToFloat(Vector256.Create(low, high)) * Vector256.Create(Fp16.ToFloat(*(ushort*)a));
    }

    /// <summary>d_w of rows 4·<paramref name="half"/>..+3 times d_a of the activation block at <paramref name="a"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector128<float> Scales128(byte* w, byte* a, int half) =>
        Fp16.ToFloat(Vector128.WidenLower(Vector128.LoadUnsafe(ref *(ushort*)w, (nuint)(4 * half)))) * Vector128.Create(Fp16.ToFloat(*(ushort*)a));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Vector256Gemv(byte* w, byte* a, int blocks, float* y, bool resume)
    {
        var acc = resume ? Vector256.Load(y) : Vector256<float>.Zero;
        for (var k = 0; k < blocks; k++, w += PackedBlockBytes, a += PlainBlockBytes)
        {
            var sum = Vector256<int>.Zero;
            var qa = (sbyte*)(a + 2);
            for (var s = 0; s < Slices; s++)
                sum += Slice256(w, s).Dot(qa + 4 * s);
            acc += Scales256(w, a) * Vector256.ConvertToSingle(sum);
        }
        acc.Store(y);
    }

    /// <summary>Four activation rows <paramref name="stride"/> bytes apart, each slice widened once for all four (from zero, or from
    /// the results when <paramref name="resume"/>, as every kernel here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Vector256Gemm4(byte* w, byte* a, int stride, int blocks, float* y, int resultStride, bool resume)
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        if (resume)
            (acc0, acc1, acc2, acc3) = (Vector256.Load(y), Vector256.Load(y + resultStride), Vector256.Load(y + 2 * resultStride), Vector256.Load(y + 3 * resultStride));
        for (var k = 0; k < blocks; k++, w += PackedBlockBytes, a += PlainBlockBytes)
        {
            Vector256<int> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
            var qa = (sbyte*)(a + 2);
            for (var s = 0; s < Slices; s++, qa += 4)
            {
                var q = Slice256(w, s);
                sum0 += q.Dot(qa);
                sum1 += q.Dot(qa + stride);
                sum2 += q.Dot(qa + 2 * stride);
                sum3 += q.Dot(qa + 3 * stride);
            }
            acc0 += Scales256(w, a) * Vector256.ConvertToSingle(sum0);
            acc1 += Scales256(w, a + stride) * Vector256.ConvertToSingle(sum1);
            acc2 += Scales256(w, a + 2 * stride) * Vector256.ConvertToSingle(sum2);
            acc3 += Scales256(w, a + 3 * stride) * Vector256.ConvertToSingle(sum3);
        }
        acc0.Store(y);
        acc1.Store(y + resultStride);
        acc2.Store(y + 2 * resultStride);
        acc3.Store(y + 3 * resultStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Vector128Gemv(byte* w, byte* a, int blocks, float* y, bool resume)
    {
        // Both halves in one pass: token generation reads each weight byte once.
        Vector128<float> acc0 = default, acc1 = default;
        if (resume)
            (acc0, acc1) = (Vector128.Load(y), Vector128.Load(y + 4));
        for (var k = 0; k < blocks; k++, w += PackedBlockBytes, a += PlainBlockBytes)
        {
            Vector128<int> sum0 = default, sum1 = default;
            var qa = (sbyte*)(a + 2);
            for (var s = 0; s < Slices; s++)
            {
                sum0 += Slice128(w, s, 0).Dot(qa + 4 * s);
                sum1 += Slice128(w, s, 1).Dot(qa + 4 * s);
            }
            acc0 += Scales128(w, a, 0) * Vector128.ConvertToSingle(sum0);
            acc1 += Scales128(w, a, 1) * Vector128.ConvertToSingle(sum1);
        }
        acc0.Store(y);
        acc1.Store(y + 4);
    }

    /// <summary>Four activation rows, four weight rows (one half of the group) at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Vector128Gemm4(byte* w, byte* a, int stride, int blocks, float* y, int resultStride, bool resume)
    {
        for (var half = 0; half < 2; half++)
        {
            Vector128<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            if (resume)
            {
                var at = y + 4 * half;
                (acc0, acc1, acc2, acc3) = (Vector128.Load(at), Vector128.Load(at + resultStride), Vector128.Load(at + 2 * resultStride), Vector128.Load(at + 3 * resultStride));
            }
            var wk = w;
            var ak = a;
            for (var k = 0; k < blocks; k++, wk += PackedBlockBytes, ak += PlainBlockBytes)
            {
                Vector128<int> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
                var qa = (sbyte*)(ak + 2);
                for (var s = 0; s < Slices; s++, qa += 4)
                {
                    var q = Slice128(wk, s, half);
                    sum0 += q.Dot(qa);
                    sum1 += q.Dot(qa + stride);
                    sum2 += q.Dot(qa + 2 * stride);
                    sum3 += q.Dot(qa + 3 * stride);
                }
                acc0 += Scales128(wk, ak, half) * Vector128.ConvertToSingle(sum0);
                acc1 += Scales128(wk, ak + stride, half) * Vector128.ConvertToSingle(sum1);
                acc2 += Scales128(wk, ak + 2 * stride, half) * Vector128.ConvertToSingle(sum2);
                acc3 += Scales128(wk, ak + 3 * stride, half) * Vector128.ConvertToSingle(sum3);
            }
            var yh = y + 4 * half;
            acc0.Store(yh);
            acc1.Store(yh + resultStride);
            acc2.Store(yh + 2 * resultStride);
            acc3.Store(yh + 3 * resultStride);
        }
    }
}
