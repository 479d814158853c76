using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// Eight Q6_K rows stored together, super-block by super-block, for kernels that keep one float lane per row
/// (8 rows = one <c>Vector256&lt;float&gt;</c>) and load each activation once for all eight rows.
/// </summary>
/// <remarks>
/// One packed super-block (1680 bytes, exactly eight plain Q6_K blocks; the values are the plain ones, only moved):
/// <list type="bullet">
/// <item>bytes 0..15: the eight rows' fp16 <c>d</c>, row j at 2j.</item>
/// <item>bytes 16..143: the int8 group scales, pair by pair: scale of row j, group 2p+t at 16p + 2j + t, so one
/// sign extension of 16 bytes gives the int16 (group 2p, group 2p+1) pairs of all eight rows.</item>
/// <item>bytes 144..1679: the 6-bit levels, 96 bytes per 16-weight group g. The group's elements go in four
/// quads k (elements 16g+4k .. 16g+4k+3); quad k of row j sits at byte 4j + i of a 32-byte vector, so a vector
/// holds one quad of all eight rows and pairs with one broadcast 4-byte load of the activations. The four quad
/// vectors are stored in three: vector v (0..2) holds quad v's levels in bits 0..5 and bits 2v, 2v+1 of quad 3's
/// level in bits 6..7 (quad v = byte &amp; 63; quad 3 gathers the top two bits of all three).</item>
/// </list>
/// Every kernel computes, per super-block and row, the exact integer Σ_g scale·Σ (level − 32)·q8 (the offset
/// folded in once per block through the Q8_K group sums on the SIMD paths), then
/// <c>acc = fma(d·d8, (float)sum, acc)</c>; every path takes the same float steps, so all of them give the
/// same bits as the scalar specification.
/// </remarks>
internal sealed partial class Q6_Kx8 : IInterleavedFormat
{
    private const int Rows = 8;
    private const int PlainBlockBytes = Q6_K.BlockBytes;
    private const int PlainQhOffset = 128;
    private const int PlainScalesOffset = 192;
    private const int PlainDOffset = 208;

    /// <summary>Bytes of one packed super-block of eight rows.</summary>
    internal const int SuperBlockBytes = Rows * PlainBlockBytes;
    private const int ScalesOffset = 2 * Rows;
    private const int LevelsOffset = ScalesOffset + 16 * Rows;
    private const int GroupLevelBytes = 96;

    public static GgmlType Type => GgmlType.Q6_K;
    public static int RowGroup => Rows;

    public static long GroupBytes(int cols) => (long)cols / KQuantHelpers.BlockSize * SuperBlockBytes;

    public static void Pack(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group) => Pack(SimdPath.Current, plainRows, cols, group);

    /// <summary>
    /// <see cref="Pack(ReadOnlySpan{byte}, int, Span{byte})"/> on <paramref name="level"/>'s path: with AVX2 super-block by
    /// super-block, the eight rows' levels transposed in registers (<see cref="Avx2Pack"/>), else row by row (the same bytes).
    /// </summary>
    internal static void Pack(SimdLevel level, ReadOnlySpan<byte> plainRows, int cols, Span<byte> group)
    {
        if (level >= SimdLevel.Avx2 && Avx2.IsSupported)
            Avx2Pack(plainRows, cols, group);
        else
            PortablePack(plainRows, cols, group);
    }

    private static void PortablePack(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group)
    {
        var blocks = CheckShape(cols, group.Length, plainRows.Length);
        Span<uint> quads = stackalloc uint[64];
        for (var j = 0; j < Rows; j++)
            for (var i = 0; i < blocks; i++)
            {
                var plain = plainRows.Slice((j * blocks + i) * PlainBlockBytes, PlainBlockBytes);
                var packed = group.Slice(i * SuperBlockBytes, SuperBlockBytes);
                plain.Slice(PlainDOffset, 2).CopyTo(packed.Slice(2 * j, 2));
                for (var g = 0; g < 16; g++)
                    packed[ScaleOffset(j, g)] = plain[PlainScalesOffset + g];
                PlainLevels(plain, MemoryMarshal.AsBytes(quads));
                // Four levels (one quad) per uint; byte-wise shifts and masks never mix neighbouring levels.
                for (var g = 0; g < 16; g++)
                {
                    var top = quads[4 * g + 3];
                    ref var at = ref packed[LevelsOffset + GroupLevelBytes * g + 4 * j];
                    for (var v = 0; v < 3; v++)
                        Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, 32 * v), quads[4 * g + v] | ((top >> (2 * v)) & 0x03030303u) << 6);
                }
            }
    }

    // Writes each packed super-block once, front to back: the rows' d and scales word by word, then per 16-weight group
    // the four level quads of all eight rows as one 4 x 4 transpose per half (RowPieces) out of the rows' unpacked levels.
    private static void Avx2Pack(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group)
    {
        var blocks = CheckShape(cols, group.Length, plainRows.Length);
        var rowBytes = blocks * PlainBlockBytes;
        Span<byte> levels = stackalloc byte[Rows * KQuantHelpers.BlockSize];
        ref var plain = ref MemoryMarshal.GetReference(plainRows);
        ref var rowLevels = ref MemoryMarshal.GetReference(levels);
        var top = Vector256.Create(0x03030303u);
        for (var i = 0; i < blocks; i++)
        {
            ref var packed = ref Unsafe.Add(ref MemoryMarshal.GetReference(group), i * SuperBlockBytes);
            ref var first = ref Unsafe.Add(ref plain, i * PlainBlockBytes);
            RowPieces.Words(ref Unsafe.Add(ref first, PlainDOffset), rowBytes, ref packed);
            for (var j = 0; j < Rows; j++)
            {
                ref var block = ref Unsafe.Add(ref first, j * rowBytes);
                // Scale pair p (groups 2p, 2p + 1) of row j at 16p + 2j.
                for (var p = 0; p < 8; p++)
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref packed, ScalesOffset + 16 * p + 2 * j),
                        Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, PlainScalesOffset + 2 * p)));
                Avx2PlainLevels(ref block, ref Unsafe.Add(ref rowLevels, j * KQuantHelpers.BlockSize));
            }
            for (var g = 0; g < 16; g++)
            {
                RowPieces.Avx2Transpose4(ref Unsafe.Add(ref rowLevels, 16 * g), KQuantHelpers.BlockSize, out var q0, out var q1, out var q2, out var q3);
                ref var at = ref Unsafe.Add(ref packed, LevelsOffset + GroupLevelBytes * g);
                // Byte-wise shifts and masks never mix neighbouring levels (as in the portable loop).
                Unsafe.WriteUnaligned(ref at, q0 | Avx2.ShiftLeftLogical(q3 & top, 6));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, 32), q1 | Avx2.ShiftLeftLogical(Avx2.ShiftRightLogical(q3, 2) & top, 6));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, 64), q2 | Avx2.ShiftLeftLogical(Avx2.ShiftRightLogical(q3, 4) & top, 6));
            }
        }
    }

    public static void Unpack(ReadOnlySpan<byte> group, int cols, Span<byte> plainRows)
    {
        var blocks = CheckShape(cols, group.Length, plainRows.Length);
        Span<uint> quads = stackalloc uint[64];
        for (var j = 0; j < Rows; j++)
            for (var i = 0; i < blocks; i++)
            {
                var plain = plainRows.Slice((j * blocks + i) * PlainBlockBytes, PlainBlockBytes);
                var packed = group.Slice(i * SuperBlockBytes, SuperBlockBytes);
                packed.Slice(2 * j, 2).CopyTo(plain.Slice(PlainDOffset, 2));
                for (var g = 0; g < 16; g++)
                    plain[PlainScalesOffset + g] = packed[ScaleOffset(j, g)];
                for (var g = 0; g < 16; g++)
                {
                    ref readonly var at = ref packed[LevelsOffset + GroupLevelBytes * g + 4 * j];
                    var v0 = Unsafe.ReadUnaligned<uint>(in at);
                    var v1 = Unsafe.ReadUnaligned<uint>(in Unsafe.Add(ref Unsafe.AsRef(in at), 32));
                    var v2 = Unsafe.ReadUnaligned<uint>(in Unsafe.Add(ref Unsafe.AsRef(in at), 64));
                    quads[4 * g] = v0 & 0x3F3F3F3Fu;
                    quads[4 * g + 1] = v1 & 0x3F3F3F3Fu;
                    quads[4 * g + 2] = v2 & 0x3F3F3F3Fu;
                    quads[4 * g + 3] = ((v0 >> 6) & 0x03030303u) | ((v1 >> 4) & 0x0C0C0C0Cu) | ((v2 >> 2) & 0x30303030u);
                }
                WritePlainLevels(MemoryMarshal.AsBytes(quads), plain);
            }
    }

    public static void Gemv(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int cols, Span<float> results)
    {
        var blocks = CheckGemv(group.Length, activation.Length, cols, results.Length);
        ref var w = ref MemoryMarshal.GetReference(group);
        ref var y = ref MemoryMarshal.GetReference(activation);
        ref var r = ref MemoryMarshal.GetReference(results);
        switch (KQuantHelpers.Kernel(level))
        {
            case KernelKind.Avx512 or KernelKind.Avx2:
                GemvAvx2(ref w, ref y, blocks, ref r);
                break;
            case KernelKind.Vector256:
                GemvVector256(ref w, ref y, blocks, ref r, false);
                break;
            case KernelKind.Vector128:
                GemvVector128(ref w, ref y, blocks, ref r, false);
                break;
            default:
                GemvScalar(ref w, ref y, blocks, ref r, false);
                break;
        }
    }

    public static void Gemm(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride) =>
        GemmRange(level, group, activations, activationStride, count, cols, results, resultStride, default, RowRange.Whole);

    public static bool HasGemmRange => true;

    // GemmCarry stays 0: one float accumulator per row, which between ranges is the result itself.
    public static void GemmRange(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride, Span<float> carry, RowRange range)
    {
        if (count == 0)
            return;
        var blocks = CheckGemm(group.Length, activations.Length, activationStride, count, cols, results.Length, resultStride);
        ref var w = ref MemoryMarshal.GetReference(group);
        ref var y = ref MemoryMarshal.GetReference(activations);
        ref var r = ref MemoryMarshal.GetReference(results);
        var kernel = KQuantHelpers.Kernel(level);
        var resume = (range & RowRange.First) == 0;
        for (var b0 = 0; b0 < count; b0 += GemmRows)
        {
            ref var yb = ref Unsafe.Add(ref y, (nint)b0 * activationStride);
            ref var rb = ref Unsafe.Add(ref r, (nint)b0 * resultStride);
            var rows = Math.Min(GemmRows, count - b0);
            switch (kernel)
            {
                case KernelKind.Avx512 when Avx512Kernels.RunGemm(level):
                    GemmAvx512<Avx512Hardware>(ref w, ref yb, activationStride, rows, blocks, ref rb, resultStride, resume);
                    break;
                case KernelKind.Avx512 or KernelKind.Avx2:
                    GemmAvx2(ref w, ref yb, activationStride, rows, blocks, ref rb, resultStride, resume);
                    break;
                case KernelKind.Vector256 or KernelKind.Vector128 when rows == 1:
                    if (kernel == KernelKind.Vector256)
                        GemvVector256(ref w, ref yb, blocks, ref rb, resume);
                    else
                        GemvVector128(ref w, ref yb, blocks, ref rb, resume);
                    break;
                case KernelKind.Vector256 or KernelKind.Vector128:
                    GemmPortable(kernel == KernelKind.Vector256, ref w, ref yb, activationStride, rows, blocks, ref rb, resultStride, resume);
                    break;
                default:
                    // The specification, one activation row at a time.
                    for (var b = 0; b < rows; b++)
                        GemvScalar(ref w, ref Unsafe.Add(ref yb, (nint)b * activationStride), blocks, ref Unsafe.Add(ref rb, (nint)b * resultStride), resume);
                    break;
            }
        }
    }

    /// <summary>
    /// The specification: per super-block and row the exact Σ_g scale·Σ (level − 32)·q8, then the float step every
    /// path shares (<see cref="Step"/>), from zero or, when <paramref name="resume"/>, from the results (<see cref="GemmRange"/>).
    /// </summary>
    private static void GemvScalar(ref byte w, ref byte y, int blocks, ref float results, bool resume)
    {
        Span<float> acc = stackalloc float[Rows];
        if (resume)
            MemoryMarshal.CreateReadOnlySpan(ref results, Rows).CopyTo(acc);
        else
            acc.Clear();
        for (var i = 0; i < blocks; i++)
        {
            ref var wb = ref Unsafe.Add(ref w, i * SuperBlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            for (var j = 0; j < Rows; j++)
            {
                var sum = 0;
                for (var g = 0; g < 16; g++)
                {
                    var groupSum = 0;
                    for (var e = 16 * g; e < 16 * g + 16; e++)
                        groupSum += (PackedLevel(ref wb, j, e) - 32) * (sbyte)Unsafe.Add(ref yb, Q8_K.QsOffset + e);
                    sum += (sbyte)Unsafe.Add(ref wb, ScaleOffset(j, g)) * groupSum;
                }
                acc[j] = Step(ref wb, ref yb, j, sum, acc[j]);
            }
        }
        acc.CopyTo(MemoryMarshal.CreateSpan(ref results, Rows));
    }

    /// <summary>The float step of one super-block and row: acc + (d·d8)·sum, one rounding for the product of the
    /// scales and one for the fused multiply-add (the AVX2 kernels take the same steps eight rows at a time).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Step(ref byte wb, ref byte yb, int row, int sum, float acc) =>
        MathF.FusedMultiplyAdd(Fp16.ToFloat(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref wb, 2 * row))) * Unsafe.ReadUnaligned<float>(ref yb), sum, acc);

    /// <summary>Byte offset, in a packed super-block, of the scale of row <paramref name="row"/>, group <paramref name="g"/>.</summary>
    private static int ScaleOffset(int row, int g) => ScalesOffset + 16 * (g >> 1) + 2 * row + (g & 1);

    /// <summary>Level (0..63) of element <paramref name="e"/> of row <paramref name="row"/> in the packed super-block at <paramref name="wb"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PackedLevel(ref byte wb, int row, int e)
    {
        int g = e >> 4, quad = (e >> 2) & 3;
        ref var v0 = ref Unsafe.Add(ref wb, LevelsOffset + GroupLevelBytes * g + 4 * row + (e & 3));
        if (quad < 3)
            return Unsafe.Add(ref v0, 32 * quad) & 63;
        return (v0 >> 6) | (Unsafe.Add(ref v0, 32) >> 6) << 2 | (Unsafe.Add(ref v0, 64) >> 6) << 4;
    }

    /// <summary>The 256 levels of a plain Q6_K block: in each half h, levels 128h+l, +32, +64, +96 take the low and high
    /// nibbles of Ql bytes 64h+l and 64h+32+l and bit pairs 0-1, 2-3, 4-5, 6-7 of Qh byte 32h+l.</summary>
    private static void PlainLevels(ReadOnlySpan<byte> block, Span<byte> levels)
    {
        var low4 = Vector128.Create((byte)0x0F);
        var high2 = Vector128.Create((byte)0x30);
        for (var half = 0; half < 2; half++)
            for (var part = 0; part < 32; part += 16)
            {
                var ql0 = Vector128.Create(block.Slice(64 * half + part, 16));
                var ql1 = Vector128.Create(block.Slice(64 * half + 32 + part, 16));
                var qh = Vector128.Create(block.Slice(PlainQhOffset + 32 * half + part, 16));
                var at = levels[(128 * half + part)..];
                ((ql0 & low4) | (Vector128.ShiftLeft(qh, 4) & high2)).CopyTo(at);
                ((ql1 & low4) | (Vector128.ShiftLeft(qh, 2) & high2)).CopyTo(at[32..]);
                (Vector128.ShiftRightLogical(ql0, 4) | (qh & high2)).CopyTo(at[64..]);
                (Vector128.ShiftRightLogical(ql1, 4) | (Vector128.ShiftRightLogical(qh, 2) & high2)).CopyTo(at[96..]);
            }
    }

    /// <summary><see cref="PlainLevels"/> 32 levels at a time, through refs (the byte shifts as 16-bit shifts whose
    /// spill into the neighbouring byte the masks clear).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Avx2PlainLevels(ref byte block, ref byte levels)
    {
        var low4 = Vector256.Create((byte)0x0F).AsUInt16();
        var high2 = Vector256.Create((byte)0x30).AsUInt16();
        for (var half = 0; half < 2; half++)
        {
            var ql0 = Unsafe.ReadUnaligned<Vector256<ushort>>(ref Unsafe.Add(ref block, 64 * half));
            var ql1 = Unsafe.ReadUnaligned<Vector256<ushort>>(ref Unsafe.Add(ref block, 64 * half + 32));
            var qh = Unsafe.ReadUnaligned<Vector256<ushort>>(ref Unsafe.Add(ref block, PlainQhOffset + 32 * half));
            ref var at = ref Unsafe.Add(ref levels, 128 * half);
            Unsafe.WriteUnaligned(ref at, (ql0 & low4) | (Avx2.ShiftLeftLogical(qh, 4) & high2));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, 32), (ql1 & low4) | (Avx2.ShiftLeftLogical(qh, 2) & high2));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, 64), (Avx2.ShiftRightLogical(ql0, 4) & low4) | (qh & high2));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, 96), (Avx2.ShiftRightLogical(ql1, 4) & low4) | (Avx2.ShiftRightLogical(qh, 2) & high2));
        }
    }

    /// <summary>The inverse of <see cref="PlainLevels"/> (every bit of Ql and Qh belongs to one level).</summary>
    private static void WritePlainLevels(ReadOnlySpan<byte> levels, Span<byte> block)
    {
        var low4 = Vector128.Create((byte)0x0F);
        for (var half = 0; half < 2; half++)
            for (var part = 0; part < 32; part += 16)
            {
                var at = levels[(128 * half + part)..];
                var q1 = Vector128.Create(at[..16]);
                var q2 = Vector128.Create(at.Slice(32, 16));
                var q3 = Vector128.Create(at.Slice(64, 16));
                var q4 = Vector128.Create(at.Slice(96, 16));
                ((q1 & low4) | Vector128.ShiftLeft(q3, 4)).CopyTo(block[(64 * half + part)..]);
                ((q2 & low4) | Vector128.ShiftLeft(q4, 4)).CopyTo(block[(64 * half + 32 + part)..]);
                (Vector128.ShiftRightLogical(q1, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(q2, 4), 2)
                    | Vector128.ShiftLeft(Vector128.ShiftRightLogical(q3, 4), 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(q4, 4), 6))
                    .CopyTo(block[(PlainQhOffset + 32 * half + part)..]);
            }
    }

    /// <summary>Validates a (ranged) Gemm's spans (<paramref name="count"/> &gt; 0) and returns the super-blocks per row.</summary>
    private static int CheckGemm(int groupLength, int activationLength, int activationStride, int count, int cols, int resultLength, int resultStride)
    {
        // Result rows may not overlap (a stride under 8 is fine for one row).
        if (count < 0 || activationStride < 0 || (count > 1 && resultStride < Rows))
            throw new ArgumentException($"Q6_Kx8 Gemm: count {count}, activation stride {activationStride}, result stride {resultStride} (at least {Rows}).");
        var rowBytes = Q8_K.BlockBytes * (cols / KQuantHelpers.BlockSize);
        if (activationStride < rowBytes || activationLength < (long)(count - 1) * activationStride + rowBytes
            || resultLength < (long)(count - 1) * resultStride + Rows)
            throw new ArgumentException($"Q6_Kx8 Gemm: {count} activation rows {activationStride} bytes apart need {(long)(count - 1) * activationStride + rowBytes} bytes " +
                $"(have {activationLength}) and {(long)(count - 1) * resultStride + Rows} results (have {resultLength}).");
        return CheckGemv(groupLength, rowBytes, cols, Rows);
    }

    private static int CheckShape(int cols, int groupLength, int plainLength)
    {
        if (cols <= 0 || cols % KQuantHelpers.BlockSize != 0)
            throw new ArgumentException($"Q6_Kx8: a row of {cols} elements is not a whole number of 256-element blocks.");
        var blocks = cols / KQuantHelpers.BlockSize;
        if (groupLength < (long)blocks * SuperBlockBytes || plainLength < (long)blocks * Rows * PlainBlockBytes)
            throw new ArgumentException($"Q6_Kx8: {Rows} rows of {cols} need {blocks * SuperBlockBytes} bytes each side (group {groupLength}, plain rows {plainLength}).");
        return blocks;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CheckGemv(int groupLength, int activationLength, int cols, int resultLength)
    {
        var blocks = cols >> 8;
        if (cols <= 0 || (cols & 255) != 0 || groupLength < (long)blocks * SuperBlockBytes || activationLength < (long)blocks * Q8_K.BlockBytes
            || resultLength < Rows)
            ThrowBadShape(groupLength, activationLength, cols, resultLength);
        return blocks;
    }

    private static void ThrowBadShape(int groupLength, int activationLength, int cols, int resultLength) =>
        throw new ArgumentException($"Q6_Kx8: {cols} columns (whole 256-element blocks) need {(long)(cols >> 8) * SuperBlockBytes} group bytes " +
            $"(have {groupLength}), {(long)(cols >> 8) * Q8_K.BlockBytes} activation bytes (have {activationLength}) and {Rows} results (have {resultLength}).");
}
