using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>The dot-product kernels one K-quant format provides (rows of whole blocks against Q8_K).</summary>
internal interface IKQuantKernels
{
    /// <summary>Format name for error messages.</summary>
    static abstract string Name { get; }

    /// <summary>Bytes per weight block.</summary>
    static abstract int WeightBlockBytes { get; }

    /// <summary>The specification: ggml's <c>ggml_vec_dot_*_q8_K_generic</c>, same float operations in the same order.</summary>
    static abstract float DotScalar(ref byte x, ref byte y, int blocks);

    /// <summary>True for a format with its own 512-bit kernel (<see cref="DotAvx512"/>); the others run their AVX2
    /// kernel on AVX-512 machines.</summary>
    static virtual bool HasAvx512Kernel => false;

    /// <summary>The format's own AVX-512BW kernel, where <see cref="HasAvx512Kernel"/>.</summary>
    static virtual float DotAvx512(ref byte x, ref byte y, int blocks) => throw new NotSupportedException();
}

/// <summary>Argument checks and path dispatch shared by the K-quant dot products.</summary>
internal static class KQuantDot
{
    /// <summary>
    /// The dot product on a given path: <typeparamref name="TAvx2"/> and <typeparamref name="TPortable"/> are the
    /// format's block layouts for the AVX2 and portable kernels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float With<T, TAvx2, TPortable>(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
        where T : IKQuantKernels
        where TAvx2 : struct, IKQuantAvx2Block
        where TPortable : struct, IKQuantPortableBlock
    {
        KQuantHelpers.CheckDot(weights, activations, n, T.WeightBlockBytes, T.Name);
        ref var x = ref MemoryMarshal.GetReference(weights);
        ref var y = ref MemoryMarshal.GetReference(activations);
        var blocks = n / KQuantHelpers.BlockSize;
        return KQuantHelpers.Kernel(level) switch
        {
            KernelKind.Avx512 when T.HasAvx512Kernel => T.DotAvx512(ref x, ref y, blocks),
            KernelKind.Avx512 or KernelKind.Avx2 => KQuantAvx2Kernels.Dot<TAvx2>(ref x, ref y, blocks),
            KernelKind.Vector256 => KQuantPortable.Dot<TPortable>(true, ref x, ref y, blocks),
            KernelKind.Vector128 => KQuantPortable.Dot<TPortable>(false, ref x, ref y, blocks),
            _ => T.DotScalar(ref x, ref y, blocks),
        };
    }

    /// <summary>
    /// <see cref="IQuantFormat.DotBatch"/> on a given path: every result bit-identical to <see cref="With{T, TAvx2, TPortable}"/> of the
    /// same rows on that path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BatchWith<T, TAvx2, TPortable>(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations,
        int activationStride, int count, int n, Span<float> results, int resultStride)
        where T : IQuantFormat, IKQuantKernels
        where TAvx2 : struct, IKQuantAvx2Block
        where TPortable : struct, IKQuantPortableBlock
    {
        BatchDot.Check<T>(activations, activationStride, count, n, results, resultStride);
        KQuantHelpers.CheckDot(weights, activations, n, T.WeightBlockBytes, T.Name);
        if (count == 0)
            return;
        ref var x = ref MemoryMarshal.GetReference(weights);
        ref var y = ref MemoryMarshal.GetReference(activations);
        ref var r = ref MemoryMarshal.GetReference(results);
        var blocks = n / KQuantHelpers.BlockSize;
        var kernel = KQuantHelpers.Kernel(level);
        switch (kernel)
        {
            case KernelKind.Avx512 or KernelKind.Avx2 when kernel == KernelKind.Avx2 || !T.HasAvx512Kernel:
                KQuantAvx2Kernels.Batch<TAvx2>(ref x, ref y, activationStride, count, blocks, ref r, resultStride);
                break;
            case KernelKind.Vector256:
                KQuantPortable.Batch<TPortable>(true, ref x, ref y, activationStride, count, blocks, ref r, resultStride);
                break;
            case KernelKind.Vector128:
                KQuantPortable.Batch<TPortable>(false, ref x, ref y, activationStride, count, blocks, ref r, resultStride);
                break;
            default:
                // The scalar reference, and a format's own 512-bit kernel, row by row (bit-identical by construction).
                for (var i = 0; i < count; i++)
                {
                    ref var yi = ref Unsafe.Add(ref y, (nint)i * activationStride);
                    Unsafe.Add(ref r, (nint)i * resultStride) = kernel == KernelKind.Avx512 ? T.DotAvx512(ref x, ref yi, blocks) : T.DotScalar(ref x, ref yi, blocks);
                }
                break;
        }
    }

    public static float Reference<T>(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
        where T : IKQuantKernels
    {
        KQuantHelpers.CheckDot(weights, activations, n, T.WeightBlockBytes, T.Name);
        return T.DotScalar(ref MemoryMarshal.GetReference(weights), ref MemoryMarshal.GetReference(activations), n / KQuantHelpers.BlockSize);
    }
}
