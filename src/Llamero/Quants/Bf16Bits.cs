using System.Runtime.CompilerServices;

namespace Llamero.Quants;

/// <summary>
/// bfloat16 conversions exactly as ggml performs them: FP32→BF16 rounds to nearest even and makes every NaN
/// quiet (ggml_compute_fp32_to_bf16); BF16→FP32 is a 16-bit shift (exact).
/// </summary>
public static class Bf16Bits
{
    /// <summary>Widens the bfloat16 whose bits are <paramref name="b"/> to a float (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>Rounds <paramref name="f"/> to the nearest bfloat16 (ties to even); NaN stays NaN, made quiet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float f)
    {
        var u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u)
            return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7FFFu + ((u >> 16) & 1))) >> 16);
    }
}
