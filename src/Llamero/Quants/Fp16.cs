using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants;

/// <summary>
/// IEEE half-precision conversions exactly as ggml performs them (the block scales of every quant format are
/// stored this way). FP32→FP16 rounds to nearest even, overflows to infinity and turns every NaN into the quiet
/// NaN 0x7E00 with the input's sign (ggml_compute_fp32_to_fp16). FP16→FP32 is exact.
/// </summary>
public static class Fp16
{
    // 2^112: moves a half's exponent (bias 15) to a single's (bias 127). Exact for normals and subnormals.
    private const float HalfToSingleScale = 5.192296858534828e33f;

    /// <summary>Widens the half whose bits are <paramref name="h"/> to a float (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort h)
    {
        var magnitude = (uint)(h & 0x7FFF) << 13;
        var sign = (uint)(h & 0x8000) << 16;
        var bits = magnitude >= 0x0F800000u
            ? magnitude | 0x7F800000u // infinity or NaN keeps its payload
            : BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle(magnitude) * HalfToSingleScale);
        return BitConverter.UInt32BitsToSingle(bits | sign);
    }

    /// <summary>Eight halves to eight floats, the vector twin of <see cref="ToFloat(ushort)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToFloat(Vector256<uint> h)
    {
        var magnitude = (h & Vector256.Create(0x7FFFu)) << 13;
        var sign = (h & Vector256.Create(0x8000u)) << 16;
        var scaled = (magnitude.AsSingle() * Vector256.Create(HalfToSingleScale)).AsUInt32();
        var special = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x0F800000u));
        var bits = Vector256.ConditionalSelect(special, magnitude | Vector256.Create(0x7F800000u), scaled);
        return (bits | sign).AsSingle();
    }

    /// <summary>Four halves to four floats, the vector twin of <see cref="ToFloat(ushort)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ToFloat(Vector128<uint> h)
    {
        var magnitude = (h & Vector128.Create(0x7FFFu)) << 13;
        var sign = (h & Vector128.Create(0x8000u)) << 16;
        var scaled = (magnitude.AsSingle() * Vector128.Create(HalfToSingleScale)).AsUInt32();
        var special = Vector128.GreaterThanOrEqual(magnitude, Vector128.Create(0x0F800000u));
        var bits = Vector128.ConditionalSelect(special, magnitude | Vector128.Create(0x7F800000u), scaled);
        return (bits | sign).AsSingle();
    }

    /// <summary>Rounds <paramref name="f"/> to the nearest half (ties to even), as ggml_compute_fp32_to_fp16.</summary>
    public static ushort FromFloat(float f)
    {
        // The float arithmetic below performs the rounding: scaling to infinity and back to zero moves the
        // mantissa bits that survive into place, adding the bias constant rounds them to nearest even.
        const float scaleToInf = 5.192296858534828e33f;  // 0x77800000
        const float scaleToZero = 7.703719777548943e-34f; // 0x08800000
        var w = BitConverter.SingleToUInt32Bits(f);
        var shl1W = w + w;
        var sign = w & 0x80000000u;
        var bias = shl1W & 0xFF000000u;
        if (bias < 0x71000000u)
            bias = 0x71000000u;
        var baseValue = MathF.Abs(f) * scaleToInf * scaleToZero;
        baseValue = BitConverter.UInt32BitsToSingle((bias >> 1) + 0x07800000u) + baseValue;
        var bits = BitConverter.SingleToUInt32Bits(baseValue);
        var expBits = (bits >> 13) & 0x00007C00u;
        var mantissaBits = bits & 0x00000FFFu;
        var nonSign = expBits + mantissaBits;
        return (ushort)((sign >> 16) | (shl1W > 0xFF000000u ? 0x7E00u : nonSign));
    }
}
