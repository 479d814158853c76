using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

// AVX-512BW Q6_K·Q8_K: 64 levels per instruction (weights 128·h + [0..63] and [64..127] are each one
// contiguous 64-byte run of activations). Only dispatched where Avx512BW is supported.
public sealed partial class Q6_K
{
    /// <summary>Q6_K has its own 512-bit kernel. Its int32 lanes differ from the AVX2 kernel's, so the batch dot
    /// runs it row by row on AVX-512 machines (bit-identical to the single-row dot by construction).</summary>
    static bool IKQuantKernels.HasAvx512Kernel => true;

    static float IKQuantKernels.DotAvx512(ref byte x, ref byte y, int blocks)
    {
        var acc = Vector256<float>.Zero;
        var low4 = Vector512.Create((byte)0x0F);
        var high2 = Vector512.Create((byte)0x30);
        // Per 32-byte half: low-nibble levels take Qh bits 0-1 (first half) or 2-3 (second), shifted to bits 4-5.
        var shiftLow = Vector512.Create(Vector256.Create((ushort)4), Vector256.Create((ushort)2));
        var shiftHigh = Vector512.Create(Vector256.Create((ushort)0), Vector256.Create((ushort)2));
        // int16 lane i of a 64-level vector belongs to 16-weight group i / 8 (relative to its first group).
        var groupIndex = Vector512.Create((short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        for (nint i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            var d = KQuantHelpers.ReadHalf(ref xb, DOffset) * Unsafe.ReadUnaligned<float>(ref yb);
            var scales8 = Vector128.LoadUnsafe(ref Unsafe.Add(ref xb, ScalesOffset)).AsSByte();
            var offset = Avx2.ShiftLeftLogical(KQuantAvx2.GroupSums(ref yb, scales8), 5);
            var scales16 = Avx2.ConvertToVector256Int16(scales8).ToVector512Unsafe();
            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            var sumi = Vector512<int>.Zero;
            for (nuint h = 0; h < 2; h++)
            {
                var ql = Vector512.LoadUnsafe(ref xb, 64 * h);
                var qh256 = Vector256.LoadUnsafe(ref xb, QhOffset + 32 * h);
                var qh = Vector512.Create(qh256, qh256).AsUInt16();
                var levelsA = (ql & low4) | (Avx512BW.ShiftLeftLogicalVariable(qh, shiftLow).AsByte() & high2);
                var levelsB = (Avx512BW.ShiftRightLogical(ql.AsUInt16(), 4).AsByte() & low4)
                            | (Avx512BW.ShiftRightLogicalVariable(qh, shiftHigh).AsByte() & high2);
                var baseGroup = Vector512.Create((short)(8 * (int)h));
                var scaleA = Avx512BW.PermuteVar32x16(scales16, groupIndex + baseGroup);
                var scaleB = Avx512BW.PermuteVar32x16(scales16, groupIndex + baseGroup + Vector512.Create((short)4));
                var actA = Vector512.LoadUnsafe(ref q8, 128 * h).AsSByte();
                var actB = Vector512.LoadUnsafe(ref q8, 128 * h + 64).AsSByte();
                sumi += Avx512BW.MultiplyAddAdjacent(scaleA, Avx512BW.MultiplyAddAdjacent(levelsA, actA))
                      + Avx512BW.MultiplyAddAdjacent(scaleB, Avx512BW.MultiplyAddAdjacent(levelsB, actB));
            }
            var sum256 = sumi.GetLower() + sumi.GetUpper() - offset;
            acc = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(sum256), acc);
        }
        return Vector256.Sum(acc);
    }
}
