using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

/// <summary>Unpacking of the nibbles and fifth bits the 4- and 5-bit block formats share.</summary>
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

    /// <summary>The fifth bits of Q5 blocks as 0x10 per element: bit j of qh belongs to element j
    /// (elements 0..15 in Low, 16..31 in High).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<byte> Low, Vector128<byte> High) FifthBits(in Bytes4 qh)
    {
        var bytes = Vector128.Create(Unsafe.ReadUnaligned<uint>(in qh[0])).AsByte();
        var bit = Vector128.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        var lo = Vector128.Shuffle(bytes, Vector128.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
        var hi = Vector128.Shuffle(bytes, Vector128.Create((byte)2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        var sixteen = Vector128.Create((byte)0x10);
        return (Vector128.Equals(lo & bit, bit) & sixteen, Vector128.Equals(hi & bit, bit) & sixteen);
    }

    /// <summary>The 32 five-bit values (0..31) of a Q5 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<byte> Low, Vector128<byte> High) FiveBit(in Bytes16 qs, in Bytes4 qh)
    {
        var (nlo, nhi) = Split(in qs);
        var (hlo, hhi) = FifthBits(in qh);
        return (nlo | hlo, nhi | hhi);
    }

    /// <summary>The 32 nibbles as bytes 0..15 in one vector: low nibbles (elements 0..15), then high nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Spread(in Bytes16 qs)
    {
        var q = Vector128.LoadUnsafe(ref Unsafe.AsRef(in qs[0]));
        return Vector256.Create(q, Vector128.ShiftRightLogical(q.AsUInt16(), 4).AsByte()) & Vector256.Create((byte)0x0F);
    }

    /// <summary>The fifth bits of a Q5 block as byte masks: 0xFF where bit j of qh (element j) is set, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> FifthBitMask(in Bytes4 qh)
    {
        var bytes = Vector256.Create(Unsafe.ReadUnaligned<uint>(in qh[0])).AsByte();
        // Byte j of the result looks at byte j/8 of qh (each 128-bit lane holds all four bytes).
        var index = Vector256.Create(0x0000000000000000ul, 0x0101010101010101ul, 0x0202020202020202ul, 0x0303030303030303ul).AsByte();
        var spread = Avx2.IsSupported ? Avx2.Shuffle(bytes, index) : Vector256.Shuffle(bytes, index);
        var bit = Vector256.Create(0x8040201008040201ul).AsByte();
        return Vector256.Equals(spread & bit, bit);
    }
}
