using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants.Interleaved;

// The portable single-row kernels (Gemv): with one activation row, widening each super-block into a buffer first
// (as GemmPortable does for many) costs more than the row itself, so these decode and widen in registers. Same
// exact integer sums and float Step as every other path.
internal sealed partial class Q6_Kx8
{
    [InlineArray(Rows)]
    private struct GemvFloats
    {
        private float _element0;

        /// <summary>Zero or, when <paramref name="resume"/>, the accumulators a previous range left in the results.</summary>
        public static GemvFloats Start(ref float results, bool resume)
        {
            GemvFloats acc = default;
            if (resume)
                for (var r = 0; r < Rows; r++)
                    acc[r] = Unsafe.Add(ref results, r);
            return acc;
        }

        /// <summary>Writes the accumulators to the results.</summary>
        public readonly void Store(ref float results)
        {
            for (var r = 0; r < Rows; r++)
                Unsafe.Add(ref results, r) = this[r];
        }
    }

    /// <summary>One activation row, from zero or, when <paramref name="resume"/>, from the results (<see cref="GemmRange"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvVector256(ref byte w, ref byte y, int blocks, ref float results, bool resume)
    {
        var acc = GemvFloats.Start(ref results, resume);
        for (nint i = 0; i < blocks; i++)
        {
            ref var wb = ref Unsafe.Add(ref w, i * SuperBlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            // Rows 0..3 and 4..7, row r in lanes 2r and 2r+1 (mod 8).
            Vector256<int> low = default, high = default;
            for (nint g = 0; g < 16; g++)
            {
                Vector256<short> productsLow = default, productsHigh = default;
                for (nint quad = 0; quad < 4; quad++)
                {
                    var levels = PortableLevels256(ref wb, g, quad);
                    var a = Vector256.WidenLower(Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref q8, 16 * g + 4 * quad))).AsSByte());
                    productsLow += (Vector256.WidenLower(levels).AsInt16() - Vector256.Create((short)32)) * a;
                    productsHigh += (Vector256.WidenUpper(levels).AsInt16() - Vector256.Create((short)32)) * a;
                }
                low += PairSums(productsLow) * RowScales256(ref wb, g, 0);
                high += PairSums(productsHigh) * RowScales256(ref wb, g, 4);
            }
            for (var r = 0; r < 4; r++)
            {
                acc[r] = Step(ref wb, ref yb, r, low.GetElement(2 * r) + low.GetElement(2 * r + 1), acc[r]);
                acc[r + 4] = Step(ref wb, ref yb, r + 4, high.GetElement(2 * r) + high.GetElement(2 * r + 1), acc[r + 4]);
            }
        }
        acc.Store(ref results);
    }

    /// <summary>One activation row, from zero or, when <paramref name="resume"/>, from the results (<see cref="GemmRange"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvVector128(ref byte w, ref byte y, int blocks, ref float results, bool resume)
    {
        var acc = GemvFloats.Start(ref results, resume);
        for (nint i = 0; i < blocks; i++)
        {
            ref var wb = ref Unsafe.Add(ref w, i * SuperBlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            // Rows r0, r0+1 (first) and r0+2, r0+3 (second) of the four rows r0 = 4·half.
            for (nint half = 0; half < 2; half++)
            {
                Vector128<int> first = default, second = default;
                for (nint g = 0; g < 16; g++)
                {
                    Vector128<short> productsFirst = default, productsSecond = default;
                    for (nint quad = 0; quad < 4; quad++)
                    {
                        var levels = PortableLevels128(ref Unsafe.Add(ref wb, 16 * half), g, quad);
                        var a = Vector128.WidenLower(Vector128.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref q8, 16 * g + 4 * quad))).AsSByte());
                        productsFirst += (Vector128.WidenLower(levels).AsInt16() - Vector128.Create((short)32)) * a;
                        productsSecond += (Vector128.WidenUpper(levels).AsInt16() - Vector128.Create((short)32)) * a;
                    }
                    var r0 = (int)(4 * half);
                    first += PairSums(productsFirst) * RowScales128(ref wb, g, r0);
                    second += PairSums(productsSecond) * RowScales128(ref wb, g, r0 + 2);
                }
                for (var r = 0; r < 2; r++)
                {
                    var row = (int)(4 * half) + r;
                    acc[row] = Step(ref wb, ref yb, row, first.GetElement(2 * r) + first.GetElement(2 * r + 1), acc[row]);
                    acc[row + 2] = Step(ref wb, ref yb, row + 2, second.GetElement(2 * r) + second.GetElement(2 * r + 1), acc[row + 2]);
                }
            }
        }
        acc.Store(ref results);
    }

    /// <summary>Level vector <paramref name="quad"/> of group <paramref name="g"/> (quad of all eight rows), decoded portably.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> PortableLevels256(ref byte wb, nint g, nint quad) =>
        Vector256.Create(PortableLevels128(ref wb, g, quad), PortableLevels128(ref Unsafe.Add(ref wb, 16), g, quad));

    /// <summary>Group <paramref name="g"/>'s scales of rows r0..r0+3, each in two adjacent lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> RowScales256(ref byte wb, nint g, int r0)
    {
        int s0 = Scale(ref wb, r0, g), s1 = Scale(ref wb, r0 + 1, g), s2 = Scale(ref wb, r0 + 2, g), s3 = Scale(ref wb, r0 + 3, g);
        return Vector256.Create(s0, s0, s1, s1, s2, s2, s3, s3);
    }

    /// <summary>Group <paramref name="g"/>'s scales of rows r0, r0+1, each in two adjacent lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> RowScales128(ref byte wb, nint g, int r0)
    {
        int s0 = Scale(ref wb, r0, g), s1 = Scale(ref wb, r0 + 1, g);
        return Vector128.Create(s0, s0, s1, s1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Scale(ref byte wb, int row, nint g) => (sbyte)Unsafe.Add(ref wb, ScaleOffset(row, (int)g));
}
