using System.Runtime.CompilerServices;

namespace Llamero.Quants;

/// <summary>
/// The C float semantics ggml's reference quantizers rely on, reproduced exactly: <c>roundf</c> (ties away from
/// zero) and float→integer conversion as x86 compilers emit it (<c>cvttss2si</c>: truncation, and the
/// "integer indefinite" 0x80000000 for NaN and out-of-range values, whose low byte is 0 when stored to int8_t).
/// Those odd cases happen for real: a block of tiny values gives an infinite inverse scale.
/// </summary>
internal static class CFloat
{
    /// <summary>C's <c>roundf</c>: nearest integer, halfway cases away from zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundF(float x) => MathF.Round(x, MidpointRounding.AwayFromZero);

    /// <summary><c>(int)x</c> as x86 code computes it (truncate; NaN and out of range give int.MinValue).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TruncateToInt32(float x) =>
        x >= -2147483648f && x < 2147483648f ? (int)x : int.MinValue;

    /// <summary><c>(int8_t)x</c> as x86 code computes it: the low byte of <see cref="TruncateToInt32"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte TruncateToInt8(float x) => unchecked((sbyte)TruncateToInt32(x));
}
