using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// The few 512-bit operations the interleaved layouts' AVX-512 kernels are written in. Each kernel is generic over
/// the implementation (a struct type argument, so the JIT compiles each call straight to its instruction):
/// <see cref="Avx512Hardware"/> on CPUs with AVX-512 F + BW, and <see cref="Avx512Emulation"/>, the same operations
/// built from two AVX2 halves (or element loops for the lane-crossing ones), so tests on an AVX2-only machine run the
/// very same kernel code and compare it bit for bit with the AVX2 kernels.
/// </summary>
/// <remarks>
/// Every operation is exactly one instruction's semantics; the emulation must match it bit for bit, lane crossing
/// included: the byte and word multiply-adds, unpacks and 16-bit shifts act within each 128-bit lane (two AVX2 halves
/// reproduce them), the dword permute crosses the whole register (an element loop).
/// </remarks>
internal interface IAvx512Ops
{
    /// <summary>vpmaddubsw: unsigned bytes of <paramref name="left"/> times signed bytes of <paramref name="right"/>,
    /// adjacent products summed with signed saturation into int16.</summary>
    static abstract Vector512<short> MultiplyAddAdjacent(Vector512<byte> left, Vector512<sbyte> right);

    /// <summary>vpmaddwd: int16 products, adjacent pairs summed into int32.</summary>
    static abstract Vector512<int> MultiplyAddAdjacent(Vector512<short> left, Vector512<short> right);

    /// <summary>vpaddw (wrapping).</summary>
    static abstract Vector512<short> Add(Vector512<short> left, Vector512<short> right);

    /// <summary>vpaddd (wrapping).</summary>
    static abstract Vector512<int> Add(Vector512<int> left, Vector512<int> right);

    /// <summary>vpsubd (wrapping).</summary>
    static abstract Vector512<int> Subtract(Vector512<int> left, Vector512<int> right);

    /// <summary>vpsubb (wrapping).</summary>
    static abstract Vector512<sbyte> Subtract(Vector512<sbyte> left, Vector512<sbyte> right);

    /// <summary>vpandd.</summary>
    static abstract Vector512<byte> And(Vector512<byte> left, Vector512<byte> right);

    /// <summary>vpxord.</summary>
    static abstract Vector512<byte> Xor(Vector512<byte> left, Vector512<byte> right);

    /// <summary>vpslld by an immediate.</summary>
    static abstract Vector512<int> ShiftLeftLogical(Vector512<int> value, [ConstantExpected] byte count);

    /// <summary>vpsrlw by an immediate: each 16-bit lane shifted right, zeros in.</summary>
    static abstract Vector512<ushort> ShiftRightLogical(Vector512<ushort> value, [ConstantExpected] byte count);

    /// <summary>vpermd: result dword i = <paramref name="value"/> dword (<paramref name="control"/>[i] mod 16), across the whole register.</summary>
    static abstract Vector512<int> Permute(Vector512<int> value, Vector512<int> control);

    /// <summary>vpunpckldq: in each 128-bit lane, dwords 0, 1 of the lane interleaved left/right.</summary>
    static abstract Vector512<int> UnpackLow(Vector512<int> left, Vector512<int> right);

    /// <summary>vpunpckhdq: in each 128-bit lane, dwords 2, 3 of the lane interleaved left/right.</summary>
    static abstract Vector512<int> UnpackHigh(Vector512<int> left, Vector512<int> right);

    /// <summary>vcvtdq2ps (round to nearest even).</summary>
    static abstract Vector512<float> ConvertToSingle(Vector512<int> value);

    /// <summary>vmulps.</summary>
    static abstract Vector512<float> Multiply(Vector512<float> left, Vector512<float> right);

    /// <summary>vsubps.</summary>
    static abstract Vector512<float> Subtract(Vector512<float> left, Vector512<float> right);

    /// <summary>vfmadd: <paramref name="a"/>·<paramref name="b"/> + <paramref name="c"/> rounded once.</summary>
    static abstract Vector512<float> FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c);
}

/// <summary>The real AVX-512 F + BW instructions (only where <see cref="Avx512BW.IsSupported"/>).</summary>
internal readonly struct Avx512Hardware : IAvx512Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> MultiplyAddAdjacent(Vector512<byte> left, Vector512<sbyte> right) => Avx512BW.MultiplyAddAdjacent(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> MultiplyAddAdjacent(Vector512<short> left, Vector512<short> right) => Avx512BW.MultiplyAddAdjacent(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> Add(Vector512<short> left, Vector512<short> right) => Avx512BW.Add(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Add(Vector512<int> left, Vector512<int> right) => Avx512F.Add(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Subtract(Vector512<int> left, Vector512<int> right) => Avx512F.Subtract(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<sbyte> Subtract(Vector512<sbyte> left, Vector512<sbyte> right) => Avx512BW.Subtract(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> And(Vector512<byte> left, Vector512<byte> right) => Avx512F.And(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Xor(Vector512<byte> left, Vector512<byte> right) => Avx512F.Xor(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> ShiftLeftLogical(Vector512<int> value, [ConstantExpected] byte count) => Avx512F.ShiftLeftLogical(value, count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ushort> ShiftRightLogical(Vector512<ushort> value, [ConstantExpected] byte count) => Avx512BW.ShiftRightLogical(value, count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Permute(Vector512<int> value, Vector512<int> control) => Avx512F.PermuteVar16x32(value, control);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> UnpackLow(Vector512<int> left, Vector512<int> right) => Avx512F.UnpackLow(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> UnpackHigh(Vector512<int> left, Vector512<int> right) => Avx512F.UnpackHigh(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ConvertToSingle(Vector512<int> value) => Avx512F.ConvertToVector512Single(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => Avx512F.Multiply(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) => Avx512F.Subtract(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);
}

/// <summary>
/// The same operations from AVX2 + FMA (tests only: it lets an AVX2 machine run the AVX-512 kernels' code). Lane-local
/// operations run on the two 256-bit halves, whose 128-bit lanes are the 512-bit register's; the lane-crossing permute
/// is an element loop.
/// </summary>
internal readonly struct Avx512Emulation : IAvx512Ops
{
    public static Vector512<short> MultiplyAddAdjacent(Vector512<byte> left, Vector512<sbyte> right) =>
        Vector512.Create(Avx2.MultiplyAddAdjacent(left.GetLower(), right.GetLower()), Avx2.MultiplyAddAdjacent(left.GetUpper(), right.GetUpper()));

    public static Vector512<int> MultiplyAddAdjacent(Vector512<short> left, Vector512<short> right) =>
        Vector512.Create(Avx2.MultiplyAddAdjacent(left.GetLower(), right.GetLower()), Avx2.MultiplyAddAdjacent(left.GetUpper(), right.GetUpper()));

    public static Vector512<short> Add(Vector512<short> left, Vector512<short> right) =>
        Vector512.Create(Avx2.Add(left.GetLower(), right.GetLower()), Avx2.Add(left.GetUpper(), right.GetUpper()));

    public static Vector512<int> Add(Vector512<int> left, Vector512<int> right) =>
        Vector512.Create(Avx2.Add(left.GetLower(), right.GetLower()), Avx2.Add(left.GetUpper(), right.GetUpper()));

    public static Vector512<int> Subtract(Vector512<int> left, Vector512<int> right) =>
        Vector512.Create(Avx2.Subtract(left.GetLower(), right.GetLower()), Avx2.Subtract(left.GetUpper(), right.GetUpper()));

    public static Vector512<sbyte> Subtract(Vector512<sbyte> left, Vector512<sbyte> right) =>
        Vector512.Create(Avx2.Subtract(left.GetLower(), right.GetLower()), Avx2.Subtract(left.GetUpper(), right.GetUpper()));

    public static Vector512<byte> And(Vector512<byte> left, Vector512<byte> right) =>
        Vector512.Create(Avx2.And(left.GetLower(), right.GetLower()), Avx2.And(left.GetUpper(), right.GetUpper()));

    public static Vector512<byte> Xor(Vector512<byte> left, Vector512<byte> right) =>
        Vector512.Create(Avx2.Xor(left.GetLower(), right.GetLower()), Avx2.Xor(left.GetUpper(), right.GetUpper()));

    public static Vector512<int> ShiftLeftLogical(Vector512<int> value, [ConstantExpected] byte count) =>
        Vector512.Create(Avx2.ShiftLeftLogical(value.GetLower(), count), Avx2.ShiftLeftLogical(value.GetUpper(), count));

    public static Vector512<ushort> ShiftRightLogical(Vector512<ushort> value, [ConstantExpected] byte count) =>
        Vector512.Create(Avx2.ShiftRightLogical(value.GetLower(), count), Avx2.ShiftRightLogical(value.GetUpper(), count));

    public static Vector512<int> Permute(Vector512<int> value, Vector512<int> control)
    {
        Span<int> result = stackalloc int[16];
        for (var i = 0; i < 16; i++)
            result[i] = value.GetElement(control.GetElement(i) & 15);
        return Vector512.Create((ReadOnlySpan<int>)result);
    }

    public static Vector512<int> UnpackLow(Vector512<int> left, Vector512<int> right) =>
        Vector512.Create(Avx2.UnpackLow(left.GetLower(), right.GetLower()), Avx2.UnpackLow(left.GetUpper(), right.GetUpper()));

    public static Vector512<int> UnpackHigh(Vector512<int> left, Vector512<int> right) =>
        Vector512.Create(Avx2.UnpackHigh(left.GetLower(), right.GetLower()), Avx2.UnpackHigh(left.GetUpper(), right.GetUpper()));

    public static Vector512<float> ConvertToSingle(Vector512<int> value) =>
        Vector512.Create(Avx.ConvertToVector256Single(value.GetLower()), Avx.ConvertToVector256Single(value.GetUpper()));

    public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) =>
        Vector512.Create(Avx.Multiply(left.GetLower(), right.GetLower()), Avx.Multiply(left.GetUpper(), right.GetUpper()));

    public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) =>
        Vector512.Create(Avx.Subtract(left.GetLower(), right.GetLower()), Avx.Subtract(left.GetUpper(), right.GetUpper()));

    public static Vector512<float> FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Vector512.Create(Fma.MultiplyAdd(a.GetLower(), b.GetLower(), c.GetLower()), Fma.MultiplyAdd(a.GetUpper(), b.GetUpper(), c.GetUpper()));
}
