using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// Packing of <see cref="Q8_0x8"/>: loading a model copies every Q8_0 matrix through it, so it runs at close to copy
/// speed (span slices, a bounds check and a length test per four bytes, made it a third of a one-thread Q8_0 load).
/// </summary>
internal sealed partial class Q8_0x8
{
    /// <summary>
    /// Writes the interleaved blocks of the eight plain rows at <paramref name="plain"/> (<paramref name="rowBytes"/>
    /// apart) to <paramref name="packed"/>, block by block so the writes run straight through: with AVX2 on
    /// <paramref name="level"/> the quants as an 8 x 8 transpose of four-byte pieces in registers, else piece by piece.
    /// </summary>
    internal static void PackBlocks(SimdLevel level, ref byte plain, int rowBytes, int blocks, ref byte packed)
    {
        if (level >= SimdLevel.Avx2 && Avx2.IsSupported)
            Avx2PackBlocks(ref plain, rowBytes, blocks, ref packed);
        else
            PortablePackBlocks(ref plain, rowBytes, blocks, ref packed);
    }

    private static void PortablePackBlocks(ref byte plain, int rowBytes, int blocks, ref byte packed)
    {
        for (var k = 0; k < blocks; k++)
        {
            ref var block = ref Unsafe.Add(ref packed, (nint)k * PackedBlockBytes);
            for (var r = 0; r < Rows; r++)
            {
                ref var row = ref Unsafe.Add(ref plain, (nint)r * rowBytes + (nint)k * PlainBlockBytes);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref block, 2 * r), Unsafe.ReadUnaligned<ushort>(ref row));
                ref var quants = ref Unsafe.Add(ref row, 2);
                ref var slices = ref Unsafe.Add(ref block, ScaleBytes + 4 * r);
                for (var s = 0; s < Slices; s++)
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref slices, s * SliceBytes), Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref quants, 4 * s)));
            }
        }
    }

    // Slice s of a block is element s (four quants) of each row's 32 quants, rows in order: the columns of the 8 x 8
    // matrix of 32-bit pieces whose rows are the plain rows. Three rounds of unpacks and a 128-bit lane swap transpose it.
    private static void Avx2PackBlocks(ref byte plain, int rowBytes, int blocks, ref byte packed)
    {
        for (var k = 0; k < blocks; k++)
        {
            ref var block = ref Unsafe.Add(ref packed, (nint)k * PackedBlockBytes);
            ref var first = ref Unsafe.Add(ref plain, (nint)k * PlainBlockBytes);
            for (var r = 0; r < Rows; r++)
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref block, 2 * r), Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref first, (nint)r * rowBytes)));
            var q0 = Quants(ref first, rowBytes, 0);
            var q1 = Quants(ref first, rowBytes, 1);
            var q2 = Quants(ref first, rowBytes, 2);
            var q3 = Quants(ref first, rowBytes, 3);
            var q4 = Quants(ref first, rowBytes, 4);
            var q5 = Quants(ref first, rowBytes, 5);
            var q6 = Quants(ref first, rowBytes, 6);
            var q7 = Quants(ref first, rowBytes, 7);
            // Pairs of rows interleaved by piece: [r0.0 r1.0 r0.1 r1.1 | r0.4 r1.4 r0.5 r1.5] and the odd halves.
            var t0 = Avx2.UnpackLow(q0, q1);
            var t1 = Avx2.UnpackHigh(q0, q1);
            var t2 = Avx2.UnpackLow(q2, q3);
            var t3 = Avx2.UnpackHigh(q2, q3);
            var t4 = Avx2.UnpackLow(q4, q5);
            var t5 = Avx2.UnpackHigh(q4, q5);
            var t6 = Avx2.UnpackLow(q6, q7);
            var t7 = Avx2.UnpackHigh(q6, q7);
            // Four rows by piece: [r0..r3 piece 0 | r0..r3 piece 4], [.. piece 1 | .. piece 5], ...
            var u0 = Avx2.UnpackLow(t0.AsUInt64(), t2.AsUInt64());
            var u1 = Avx2.UnpackHigh(t0.AsUInt64(), t2.AsUInt64());
            var u2 = Avx2.UnpackLow(t1.AsUInt64(), t3.AsUInt64());
            var u3 = Avx2.UnpackHigh(t1.AsUInt64(), t3.AsUInt64());
            var u4 = Avx2.UnpackLow(t4.AsUInt64(), t6.AsUInt64());
            var u5 = Avx2.UnpackHigh(t4.AsUInt64(), t6.AsUInt64());
            var u6 = Avx2.UnpackLow(t5.AsUInt64(), t7.AsUInt64());
            var u7 = Avx2.UnpackHigh(t5.AsUInt64(), t7.AsUInt64());
            ref var slices = ref Unsafe.Add(ref block, ScaleBytes);
            Store(ref slices, 0, Avx2.Permute2x128(u0, u4, 0x20));
            Store(ref slices, 1, Avx2.Permute2x128(u1, u5, 0x20));
            Store(ref slices, 2, Avx2.Permute2x128(u2, u6, 0x20));
            Store(ref slices, 3, Avx2.Permute2x128(u3, u7, 0x20));
            Store(ref slices, 4, Avx2.Permute2x128(u0, u4, 0x31));
            Store(ref slices, 5, Avx2.Permute2x128(u1, u5, 0x31));
            Store(ref slices, 6, Avx2.Permute2x128(u2, u6, 0x31));
            Store(ref slices, 7, Avx2.Permute2x128(u3, u7, 0x31));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Quants(ref byte first, int rowBytes, int r) =>
        Unsafe.ReadUnaligned<Vector256<uint>>(ref Unsafe.Add(ref first, (nint)r * rowBytes + 2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref byte slices, int s, Vector256<ulong> slice) =>
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref slices, s * SliceBytes), slice);
}
