using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants;

/// <summary>Unpacking of the 16 nibble bytes the 4- and 5-bit block formats share.</summary>
internal static class Nibbles
{
    /// <summary>Low nibbles (elements 0..15) and high nibbles (elements 16..31), each 0..15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<byte> Low, Vector128<byte> High) Split(in Bytes16 qs)
    {
        var q = Vector128.LoadUnsafe(ref Unsafe.AsRef(in qs[0]));
        var mask = Vector128.Create((byte)0x0F);
        return (q & mask, Vector128.ShiftRightLogical(q, 4));
    }
}
