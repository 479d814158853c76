using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

// AVX-512BW Q4_K·Q8_K: the AVX2 kernel on 64-byte vectors, one 64-weight chunk per instruction. Only
// dispatched where Avx512BW is supported; same integer sums, same float scaling as the AVX2 path.
public sealed partial class Q4_K
{
    static float IKQuantKernels.DotAvx512(ref byte x, ref byte y, int blocks)
    {
        var acc = Vector256<float>.Zero;
        var accMin = Vector128<float>.Zero;
        for (nint i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            var dy = Unsafe.ReadUnaligned<float>(ref yb);
            var d = KQuantHelpers.ReadHalf(ref xb, 0) * dy;
            var scales256 = ScalesAndMinsAvx2(ref xb, ref yb, -KQuantHelpers.ReadHalf(ref xb, 2) * dy, ref accMin);
            var scales = Vector512.Create(scales256, scales256);
            ref var q4 = ref Unsafe.Add(ref xb, QsOffset);
            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            var sumi = Chunk512(ref q4, ref q8, scales, 0) + Chunk512(ref q4, ref q8, scales, 1)
                     + Chunk512(ref q4, ref q8, scales, 2) + Chunk512(ref q4, ref q8, scales, 3);
            var sum256 = sumi.GetLower() + sumi.GetUpper();
            acc = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(sum256), acc);
        }
        return Vector256.Sum(acc) + Vector128.Sum(accMin);
    }

    /// <summary>
    /// Chunk j (64 weights): its 32 nibble bytes broadcast to both halves, low nibbles kept in the lower half and
    /// high nibbles shifted down in the upper, so the levels line up with 64 contiguous activations; scaled by
    /// sub-blocks 2j (lower half) and 2j+1 (upper half).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Chunk512(ref byte q4, ref byte q8, Vector512<byte> scales, int j)
    {
        var bits = Vector256.LoadUnsafe(ref q4, (nuint)(32 * j));
        var both = Vector512.Create(bits, bits).AsUInt16();
        var shifts = Vector512.Create(Vector256<ushort>.Zero, Vector256.Create((ushort)4));
        var levels = Avx512BW.ShiftRightLogicalVariable(both, shifts).AsByte() & Vector512.Create((byte)0x0F);
        var act = Vector512.LoadUnsafe(ref q8, (nuint)(64 * j)).AsSByte();
        var (lo, hi) = ScalePairMasks(j);
        var scale = Avx512BW.Shuffle(scales, Vector512.Create(lo, hi)).AsInt16();
        return Avx512BW.MultiplyAddAdjacent(scale, Avx512BW.MultiplyAddAdjacent(levels, act));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte> Low, Vector256<byte> High) ScalePairMasks(int j) =>
        (Vector256.Create((short)(((4 * j + 1) << 8) | (4 * j))).AsByte(), Vector256.Create((short)(((4 * j + 3) << 8) | (4 * j + 2))).AsByte());
}
