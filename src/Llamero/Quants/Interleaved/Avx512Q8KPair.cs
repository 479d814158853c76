using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// One Q8_K super-block of two activation rows, interleaved for the AVX-512 K-quant kernels (<see cref="Avx512Pairs"/>):
/// bytes 0..511 the 256 quants (unit u = quants 4u..4u+3 of both rows at <see cref="Avx512Pairs.Slot"/>(u)),
/// 512..639 the sixteen group sums (sums 2j, 2j+1 of both rows at 512 + Slot(j)), 640..647 the two rows' d.
/// </summary>
[InlineArray(11)]
internal struct Avx512Q8KPair
{
    private const int BSums = 512;
    private const int D = 640;

    private Vector512<byte> _element0;

    /// <summary>Fills the buffer from super-block i of two Q8_K rows (<paramref name="blockA"/> is row b's, <paramref name="blockB"/> row b + 1's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Load<TOps>(ref byte blockA, ref byte blockB) where TOps : struct, IAvx512Ops
    {
        ref var to = ref Unsafe.As<Vector512<byte>, byte>(ref _element0);
        Avx512Pairs.Interleave<TOps>(ref Unsafe.Add(ref blockA, Q8_K.QsOffset), ref Unsafe.Add(ref blockB, Q8_K.QsOffset), 4, ref to);
        Avx512Pairs.InterleaveHalf<TOps>(ref Unsafe.Add(ref blockA, Q8_K.BSumsOffset), ref Unsafe.Add(ref blockB, Q8_K.BSumsOffset), ref Unsafe.Add(ref to, BSums));
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, D), Unsafe.ReadUnaligned<uint>(ref blockA));
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, D + 4), Unsafe.ReadUnaligned<uint>(ref blockB));
    }

    /// <summary>Group sums 2j, 2j+1 (int16) of row b in every even dword, of row b + 1 in every odd one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Vector512<short> GroupSums(int j) =>
        Avx512Pairs.Broadcast(ref Unsafe.As<Vector512<byte>, byte>(ref Unsafe.AsRef(in _element0)), BSums + Avx512Pairs.Slot(j)).AsInt16();

    /// <summary>Row b's d in every even float lane, row b + 1's in every odd one.</summary>
    public readonly Vector512<float> D2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Avx512Pairs.Broadcast(ref Unsafe.As<Vector512<byte>, byte>(ref Unsafe.AsRef(in _element0)), D).AsSingle();
    }
}
