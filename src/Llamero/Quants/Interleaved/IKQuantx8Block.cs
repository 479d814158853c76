using Llamero.Gguf;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// A K-quant AVX2 block decoder (<see cref="IKQuantAvx2Block"/>) that the 8-row interleaved kernels
/// (<see cref="KQuantx8{TAvx2, TPortable}"/>) can drive: they keep the fp16 super-block scales of eight rows
/// together apart from the blocks, so the decoder must unpack a block without reading them.
/// </summary>
internal interface IKQuantx8Block : IKQuantAvx2Block
{
    /// <summary>The plain format the decoder reads.</summary>
    static abstract GgmlType Type { get; }

    /// <summary>Where the fp16 <c>d</c> sits in the plain block, followed by the fp16 <c>dmin</c> when
    /// <see cref="IKQuantAvx2Block.HasMins"/>; these 2 or 4 bytes are the block's first or its last.</summary>
    static abstract int ScaleOffset { get; }

    /// <summary><see cref="IKQuantAvx2Block.Load"/> without <see cref="IKQuantAvx2Block.D"/> and
    /// <see cref="IKQuantAvx2Block.DMin"/>: reads no byte of the fp16 scales.</summary>
    void LoadScales(ref byte xb);
}
