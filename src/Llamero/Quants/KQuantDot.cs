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

    /// <summary>Portable <c>Vector128</c> (or, when <paramref name="wide"/>, <c>Vector256</c>) kernel.</summary>
    static abstract float DotPortable(bool wide, ref byte x, ref byte y, int blocks);

    /// <summary>AVX2 + FMA kernel.</summary>
    static abstract float DotAvx2(ref byte x, ref byte y, int blocks);

    /// <summary>AVX-512BW kernel (formats without one forward to their AVX2 kernel).</summary>
    static abstract float DotAvx512(ref byte x, ref byte y, int blocks);
}

/// <summary>Argument checks and path dispatch shared by the K-quant dot products.</summary>
internal static class KQuantDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float With<T>(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
        where T : IKQuantKernels
    {
        KQuantHelpers.CheckDot(weights, activations, n, T.WeightBlockBytes, T.Name);
        ref var x = ref MemoryMarshal.GetReference(weights);
        ref var y = ref MemoryMarshal.GetReference(activations);
        var blocks = n / KQuantHelpers.BlockSize;
        return KQuantHelpers.Kernel(level) switch
        {
            KernelKind.Avx512 => T.DotAvx512(ref x, ref y, blocks),
            KernelKind.Avx2 => T.DotAvx2(ref x, ref y, blocks),
            KernelKind.Vector256 => T.DotPortable(true, ref x, ref y, blocks),
            KernelKind.Vector128 => T.DotPortable(false, ref x, ref y, blocks),
            _ => T.DotScalar(ref x, ref y, blocks),
        };
    }

    public static float Reference<T>(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
        where T : IKQuantKernels
    {
        KQuantHelpers.CheckDot(weights, activations, n, T.WeightBlockBytes, T.Name);
        return T.DotScalar(ref MemoryMarshal.GetReference(weights), ref MemoryMarshal.GetReference(activations), n / KQuantHelpers.BlockSize);
    }
}
