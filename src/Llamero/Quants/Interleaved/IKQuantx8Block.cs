using Llamero.Gguf;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// A K-quant AVX2 block decoder (<see cref="IKQuantAvx2Block"/>) that the 8-row interleaved kernels
/// (<see cref="KQuantx8{TAvx2, TPortable}"/>) can drive. They keep the fp16 super-block scales of eight rows
/// together, apart from the blocks, and each row's block as a "record": the plain block without those scales and
/// with packed 6-bit group scales widened to bytes where the format has them (lossless; the kernel then skips the
/// bit unpacking). <see cref="IKQuantAvx2Block.Pair"/> reads a record exactly as it reads a plain block.
/// </summary>
internal interface IKQuantx8Block : IKQuantAvx2Block
{
    /// <summary>The plain format the decoder reads.</summary>
    static abstract GgmlType Type { get; }

    /// <summary>Where the fp16 <c>d</c> sits in the plain block, followed by the fp16 <c>dmin</c> when
    /// <see cref="IKQuantAvx2Block.HasMins"/>.</summary>
    static abstract int ScaleOffset { get; }

    /// <summary>Bytes of one row's record (a multiple of 16 where it can be, so the kernel's loads stay aligned).</summary>
    static abstract int RecordBytes { get; }

    /// <summary>Writes the record of a plain block (everything but its fp16 scales).</summary>
    static abstract void ToRecord(ReadOnlySpan<byte> block, Span<byte> record);

    /// <summary>The inverse of <see cref="ToRecord"/>: writes every byte of the plain block but its fp16 scales.</summary>
    static abstract void FromRecord(ReadOnlySpan<byte> record, Span<byte> block);

    /// <summary><see cref="IKQuantAvx2Block.Load"/> from a record, without <see cref="IKQuantAvx2Block.D"/> and
    /// <see cref="IKQuantAvx2Block.DMin"/>.</summary>
    void LoadRecord(ref byte record);
}
