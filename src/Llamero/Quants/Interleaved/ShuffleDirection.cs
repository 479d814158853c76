using System.Runtime.CompilerServices;

namespace Llamero.Quants.Interleaved;

/// <summary>Which way a layout's byte shuffle runs, as a type argument so the JIT specialises each direction.</summary>
internal interface IShuffleDirection
{
    /// <summary>True: plain rows to group; false: group to plain rows.</summary>
    static abstract bool Pack { get; }

    /// <summary>One word between its plain offset and its packed offset, the way <typeparamref name="TDirection"/> runs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Move<TWord, TDirection>(ref byte from, ref byte to, int plain, int packed)
        where TWord : unmanaged
        where TDirection : struct, IShuffleDirection =>
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, TDirection.Pack ? packed : plain),
            Unsafe.ReadUnaligned<TWord>(ref Unsafe.Add(ref from, TDirection.Pack ? plain : packed)));
}

/// <summary>Plain rows to an interleaved group.</summary>
internal struct Packing : IShuffleDirection
{
    public static bool Pack => true;
}

/// <summary>An interleaved group back to plain rows.</summary>
internal struct Unpacking : IShuffleDirection
{
    public static bool Pack => false;
}
