using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>The F16 roundings of attention over an F16 KV cache (see <see cref="CacheAttention"/>).</summary>
internal static class HalfVectorOps
{
    // Floats rounded per pass of RoundThroughHalf (a stack buffer of halves).
    private const int Chunk = 256;

    /// <summary>Replaces each value by its nearest half, widened back: what ggml's conversion of a matmul operand to
    /// F16 does to it (vectorised through <see cref="Fp16.FromSingle"/> and <see cref="Fp16.ToSingle"/>).</summary>
    public static void RoundThroughHalf(Span<float> x)
    {
        Span<ushort> halves = stackalloc ushort[Chunk];
        for (var i = 0; i < x.Length; i += Chunk)
        {
            var part = x.Slice(i, Math.Min(Chunk, x.Length - i));
            var h = halves[..part.Length];
            Fp16.FromSingle(part, h);
            Fp16.ToSingle(h, part);
        }
    }

    /// <summary>True when a half of <paramref name="halves"/> is infinite or NaN (exponent bits all set).</summary>
    public static bool AnyInfinityOrNaN(ReadOnlySpan<ushort> halves)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var exponent = Vector256.Create((ushort)0x7C00);
            var seen = Vector256<ushort>.Zero;
            for (; i + 16 <= halves.Length; i += 16)
                seen |= Vector256.Equals(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(halves), (nuint)i) & exponent, exponent);
            if (seen != Vector256<ushort>.Zero)
                return true;
        }
        for (; i < halves.Length; i++)
        {
            if ((halves[i] & 0x7C00) == 0x7C00)
                return true;
        }
        return false;
    }

    /// <summary>Widens <paramref name="halves"/> into <paramref name="floats"/> exactly, provided none is infinite or NaN
    /// (<see cref="AnyInfinityOrNaN"/> false; an infinite or NaN half comes out as a finite value): four instructions per
    /// eight halves on AVX2 against the eight of the exact <see cref="Fp16.ToSingle"/>, which other paths use.</summary>
    public static void WidenFinite(ReadOnlySpan<ushort> halves, Span<float> floats, SimdLevel level)
    {
        if (floats.Length < halves.Length)
            throw new ArgumentException($"WidenFinite: {halves.Length} halves do not fit {floats.Length} floats.", nameof(floats));
        if (level < SimdLevel.Avx2 || !Avx2.IsSupported)
        {
            Fp16.ToSingle(halves, floats);
            return;
        }
        ref var h = ref Unsafe.As<ushort, short>(ref MemoryMarshal.GetReference(halves));
        ref var f = ref MemoryMarshal.GetReference(floats);
        var i = 0;
        for (; i + 8 <= halves.Length; i += 8)
            Fp16.ToFloatFinite(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref h, (nuint)i))).StoreUnsafe(ref f, (nuint)i);
        for (; i < halves.Length; i++)
            floats[i] = Fp16.ToFloat(halves[i]);
    }

    /// <summary>The specification of <see cref="RoundThroughHalf"/>, one value at a time.</summary>
    public static void RoundThroughHalfReference(Span<float> x)
    {
        for (var i = 0; i < x.Length; i++)
            x[i] = Fp16.ToFloat(Fp16.FromFloat(x[i]));
    }
}
