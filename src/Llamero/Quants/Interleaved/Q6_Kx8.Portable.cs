using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants.Interleaved;

// The portable kernels (Vector256 / Vector128 without x86 intrinsics). Each super-block is first widened once per
// call into int16 (level − 32) in the packed order and int32 scales, each duplicated (row j's scale at lanes 2j,
// 2j+1); then every activation row runs over it: |(level − 32)·q8| ≤ 32·128, so a group's four quads sum to at
// most 16384 in int16. Each int16 pair widens to int32 and meets the group scale, leaving row j in two int32 lanes
// that are added at the end of the super-block. Exact integers and the shared float Step, as the scalar path.
internal sealed partial class Q6_Kx8
{
    /// <summary>One super-block widened for the portable kernels.</summary>
    private struct PortableBlock
    {
        /// <summary>Level − 32 of group g, quad k, row j, element e at 128g + 32k + 4j + e.</summary>
        public Levels16 Levels;

        /// <summary>Scale of row j, group g at 16g + 2j and 16g + 2j + 1.</summary>
        public Scales32 Scales;
    }

    [InlineArray(2048)]
    private struct Levels16
    {
        private short _element0;
    }

    [InlineArray(256)]
    private struct Scales32
    {
        private int _element0;
    }

    [InlineArray(GemmRows)]
    private struct RowFloats
    {
        private Vector256<float> _element0;
    }

    /// <summary><paramref name="count"/> (at most <see cref="GemmRows"/>) activation rows on the portable path of
    /// width <paramref name="wide"/> (Vector256, else Vector128), from zero or, when <paramref name="resume"/>, from the results.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void GemmPortable(bool wide, ref byte w, ref byte y, nint stride, int count, int blocks, ref float results, nint resultStride,
        bool resume)
    {
        Unsafe.SkipInit(out PortableBlock block);
        RowFloats acc = default;
        if (resume)
            for (var b = 0; b < count; b++)
                acc[b] = Vector256.LoadUnsafe(ref Unsafe.Add(ref results, b * resultStride));
        Span<int> sums = stackalloc int[Rows];
        for (nint i = 0; i < blocks; i++)
        {
            ref var wb = ref Unsafe.Add(ref w, i * SuperBlockBytes);
            Widen(ref wb, ref block);
            for (var b = 0; b < count; b++)
            {
                ref var yb = ref Unsafe.Add(ref y, b * stride + i * Q8_K.BlockBytes);
                if (wide)
                    RowSums256(ref block, ref Unsafe.Add(ref yb, Q8_K.QsOffset), sums);
                else
                    RowSums128(ref block, ref Unsafe.Add(ref yb, Q8_K.QsOffset), sums);
                ref var rowAcc = ref Unsafe.As<Vector256<float>, float>(ref acc[b]);
                for (var j = 0; j < Rows; j++)
                    Unsafe.Add(ref rowAcc, j) = Step(ref wb, ref yb, j, sums[j], Unsafe.Add(ref rowAcc, j));
            }
        }
        for (var b = 0; b < count; b++)
            for (var j = 0; j < Rows; j++)
                Unsafe.Add(ref results, b * resultStride + j) = acc[b].GetElement(j);
    }

    /// <summary>Decodes a packed super-block into <paramref name="block"/>.</summary>
    private static void Widen(ref byte wb, ref PortableBlock block)
    {
        ref var levels = ref Unsafe.As<Levels16, short>(ref block.Levels);
        var offset = Vector128.Create((short)32);
        for (nint g = 0; g < 16; g++)
        {
            for (nint quad = 0; quad < 4; quad++)
                for (nint half = 0; half < 2; half++)
                {
                    var bytes = PortableLevels128(ref Unsafe.Add(ref wb, 16 * half), g, quad);
                    var at = (nuint)(128 * g + 32 * quad + 16 * half);
                    (Vector128.WidenLower(bytes).AsInt16() - offset).StoreUnsafe(ref levels, at);
                    (Vector128.WidenUpper(bytes).AsInt16() - offset).StoreUnsafe(ref levels, at + 8);
                }
            for (var j = 0; j < Rows; j++)
                block.Scales[(int)(16 * g) + 2 * j] = block.Scales[(int)(16 * g) + 2 * j + 1] = (sbyte)Unsafe.Add(ref wb, ScaleOffset(j, (int)g));
        }
    }

    /// <summary>Row sums of one activation row, rows 0..3 and 4..7 a Vector256 each.</summary>
    private static void RowSums256(ref PortableBlock block, ref byte q8, Span<int> sums)
    {
        ref var levels = ref Unsafe.As<Levels16, short>(ref block.Levels);
        ref var scales = ref Unsafe.As<Scales32, int>(ref block.Scales);
        Vector256<int> low = default, high = default;
        for (nint g = 0; g < 16; g++)
        {
            Vector256<short> productsLow = default, productsHigh = default;
            for (nint quad = 0; quad < 4; quad++)
            {
                var a = Vector256.WidenLower(Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref q8, 16 * g + 4 * quad))).AsSByte());
                var at = (nuint)(128 * g + 32 * quad);
                productsLow += Vector256.LoadUnsafe(ref levels, at) * a;
                productsHigh += Vector256.LoadUnsafe(ref levels, at + 16) * a;
            }
            low += PairSums(productsLow) * Vector256.LoadUnsafe(ref scales, (nuint)(16 * g));
            high += PairSums(productsHigh) * Vector256.LoadUnsafe(ref scales, (nuint)(16 * g + 8));
        }
        for (var r = 0; r < 4; r++)
        {
            sums[r] = low.GetElement(2 * r) + low.GetElement(2 * r + 1);
            sums[r + 4] = high.GetElement(2 * r) + high.GetElement(2 * r + 1);
        }
    }

    /// <summary>Row sums of one activation row, two rows per Vector128.</summary>
    private static void RowSums128(ref PortableBlock block, ref byte q8, Span<int> sums)
    {
        ref var levels = ref Unsafe.As<Levels16, short>(ref block.Levels);
        ref var scales = ref Unsafe.As<Scales32, int>(ref block.Scales);
        Vector128<int> rows01 = default, rows23 = default, rows45 = default, rows67 = default;
        for (nint g = 0; g < 16; g++)
        {
            Vector128<short> p01 = default, p23 = default, p45 = default, p67 = default;
            for (nint quad = 0; quad < 4; quad++)
            {
                var a = Vector128.WidenLower(Vector128.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref q8, 16 * g + 4 * quad))).AsSByte());
                var at = (nuint)(128 * g + 32 * quad);
                p01 += Vector128.LoadUnsafe(ref levels, at) * a;
                p23 += Vector128.LoadUnsafe(ref levels, at + 8) * a;
                p45 += Vector128.LoadUnsafe(ref levels, at + 16) * a;
                p67 += Vector128.LoadUnsafe(ref levels, at + 24) * a;
            }
            var s = (nuint)(16 * g);
            rows01 += PairSums(p01) * Vector128.LoadUnsafe(ref scales, s);
            rows23 += PairSums(p23) * Vector128.LoadUnsafe(ref scales, s + 4);
            rows45 += PairSums(p45) * Vector128.LoadUnsafe(ref scales, s + 8);
            rows67 += PairSums(p67) * Vector128.LoadUnsafe(ref scales, s + 12);
        }
        sums[0] = rows01.GetElement(0) + rows01.GetElement(1);
        sums[1] = rows01.GetElement(2) + rows01.GetElement(3);
        sums[2] = rows23.GetElement(0) + rows23.GetElement(1);
        sums[3] = rows23.GetElement(2) + rows23.GetElement(3);
        sums[4] = rows45.GetElement(0) + rows45.GetElement(1);
        sums[5] = rows45.GetElement(2) + rows45.GetElement(3);
        sums[6] = rows67.GetElement(0) + rows67.GetElement(1);
        sums[7] = rows67.GetElement(2) + rows67.GetElement(3);
    }

    /// <summary>The first 16 bytes (rows 0..3) of level vector <paramref name="quad"/> of group <paramref name="g"/> in the
    /// super-block at <paramref name="wb"/>; pass the super-block + 16 for rows 4..7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> PortableLevels128(ref byte wb, nint g, nint quad)
    {
        ref var v = ref Unsafe.Add(ref wb, LevelsOffset + GroupLevelBytes * g);
        if (quad < 3)
            return Vector128.LoadUnsafe(ref v, (nuint)(32 * quad)) & Vector128.Create((byte)63);
        return Vector128.ShiftRightLogical(Vector128.LoadUnsafe(ref v), 6)
             | Vector128.ShiftLeft(Vector128.ShiftRightLogical(Vector128.LoadUnsafe(ref v, 32), 6), 2)
             | Vector128.ShiftLeft(Vector128.ShiftRightLogical(Vector128.LoadUnsafe(ref v, 64), 6), 4);
    }

    /// <summary>Adjacent int16 pairs summed into int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> PairSums(Vector256<short> v)
    {
        var x = v.AsInt32();
        return Vector256.ShiftRightArithmetic(x << 16, 16) + Vector256.ShiftRightArithmetic(x, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> PairSums(Vector128<short> v)
    {
        var x = v.AsInt32();
        return Vector128.ShiftRightArithmetic(x << 16, 16) + Vector128.ShiftRightArithmetic(x, 16);
    }
}
