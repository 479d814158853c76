using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;

namespace Llamero.Quants;

/// <summary>
/// Views a row of quantized bytes as its typed blocks after checking the lengths, so the kernels can index
/// blocks without bounds surprises. Errors name the type and the sizes involved.
/// </summary>
internal static class BlockRows
{
    /// <summary>The blocks of a row of <paramref name="n"/> elements held in <paramref name="bytes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<TBlock> Read<TBlock>(ReadOnlySpan<byte> bytes, int n, int blockSize, GgmlType type)
        where TBlock : unmanaged
    {
        var count = Count(n, blockSize, type);
        if ((long)count * Unsafe.SizeOf<TBlock>() > bytes.Length)
            ThrowTooShort(type, n, bytes.Length);
        return MemoryMarshal.Cast<byte, TBlock>(bytes)[..count];
    }

    /// <summary>The writable blocks of a row of <paramref name="n"/> elements held in <paramref name="bytes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<TBlock> Write<TBlock>(Span<byte> bytes, int n, int blockSize, GgmlType type)
        where TBlock : unmanaged
    {
        var count = Count(n, blockSize, type);
        if ((long)count * Unsafe.SizeOf<TBlock>() > bytes.Length)
            ThrowTooShort(type, n, bytes.Length);
        return MemoryMarshal.Cast<byte, TBlock>(bytes)[..count];
    }

    /// <summary>Checks that <paramref name="n"/> is a whole number of blocks and returns that number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Count(int n, int blockSize, GgmlType type)
    {
        if (n < 0 || n % blockSize != 0)
            ThrowNotWholeBlocks(type, n, blockSize);
        return n / blockSize;
    }

    private static void ThrowNotWholeBlocks(GgmlType type, int n, int blockSize) =>
        throw new ArgumentException($"A {GgmlTypes.NameOf(type)} row must hold a multiple of {blockSize} elements; got {n}.");

    private static void ThrowTooShort(GgmlType type, int n, int length) =>
        throw new ArgumentException(
            $"A {GgmlTypes.NameOf(type)} row of {n} elements needs {GgmlTypes.Get(type).RowBytes(n)} bytes; got {length}.");
}
