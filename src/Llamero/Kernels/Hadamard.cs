using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Llamero.Kernels;

/// <summary>
/// The orthonormal Walsh-Hadamard rotation llama.cpp applies around a block-quantized KV cache (its
/// <c>attn_rot_k</c>/<c>attn_rot_v</c>, ggml_gen_hadamard): H_n in natural (Sylvester) order, H[i][j] =
/// (−1)^popcount(i &amp; j) / √n, applied to every consecutive block of n elements. H is symmetric and its own inverse,
/// so rotating queries and keys leaves every K·q unchanged, and the attention output of rotated values is rotated back
/// by applying H again; what changes is that outliers are spread over the block before the rows are quantized.
/// </summary>
internal static class Hadamard
{
    /// <summary>Smallest rotation llama.cpp uses (and the one it always uses for values).</summary>
    public const int MinimumSize = 64;

    /// <summary>The key (and query) rotation for a quantized cache of heads of <paramref name="headSize"/>: the largest
    /// power of two of at least 64 that divides the head size, or 0 (no rotation) when 64 does not divide it.</summary>
    public static int KeyRotation(int headSize)
    {
        if (headSize % MinimumSize != 0)
            return 0;
        var n = MinimumSize;
        while (headSize % (n * 2) == 0)
            n *= 2;
        return n;
    }

    /// <summary>The value rotation for a quantized cache: 64 when 64 divides the head size, else 0 (llama.cpp finds the
    /// smallest rotation best for values).</summary>
    public static int ValueRotation(int headSize) => headSize % MinimumSize == 0 ? MinimumSize : 0;

    /// <summary><paramref name="x"/> ← H_n·x in each block of <paramref name="n"/> (a power of two) elements, by the fast
    /// transform (n·log n additions) then the 1/√n scale.</summary>
    public static void Transform(Span<float> x, int n)
    {
        if (n < 2 || (n & (n - 1)) != 0 || x.Length % n != 0)
            throw new ArgumentException($"A Hadamard rotation of {n} does not fit {x.Length} elements.");
        var scale = 1f / MathF.Sqrt(n);
        for (var offset = 0; offset < x.Length; offset += n)
            Block(x.Slice(offset, n), scale);
    }

    private static void Block(Span<float> b, float scale)
    {
        var n = b.Length;
        ref var p = ref MemoryMarshal.GetReference(b);
        for (var h = 1; h < n; h <<= 1)
        {
            for (var i = 0; i < n; i += 2 * h)
            {
                var j = i;
                if (h >= 8 && Vector256.IsHardwareAccelerated)
                {
                    for (; j + 8 <= i + h; j += 8)
                    {
                        var a = Vector256.LoadUnsafe(ref p, (nuint)j);
                        var c = Vector256.LoadUnsafe(ref p, (nuint)(j + h));
                        (a + c).StoreUnsafe(ref p, (nuint)j);
                        (a - c).StoreUnsafe(ref p, (nuint)(j + h));
                    }
                }
                for (; j < i + h; j++)
                {
                    var a = Unsafe.Add(ref p, j);
                    var c = Unsafe.Add(ref p, j + h);
                    Unsafe.Add(ref p, j) = a + c;
                    Unsafe.Add(ref p, j + h) = a - c;
                }
            }
        }
        VectorOps.Scale(b, scale, SimdPath.Current);
    }
}
