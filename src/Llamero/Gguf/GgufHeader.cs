namespace Llamero.Gguf;

/// <summary>
/// Everything before the tensor data of one GGUF file, as parsed and validated by <see cref="GgufHeaderReader"/>.
/// Offsets are from the start of the file; tensor offsets and <see cref="DataEnd"/> from <see cref="DataStart"/>.
/// </summary>
internal sealed record GgufHeader(
    uint Version,
    IReadOnlyList<GgufKeyValue> Metadata,
    IReadOnlyList<GgufTensorInfo> Tensors,
    uint Alignment,
    long HeaderEnd,
    long DataStart,
    long DataEnd)
{
    /// <summary>Bytes a complete file must have: data start plus the end of the last tensor (the header alone when there are no tensor bytes).</summary>
    public long RequiredLength => DataEnd == 0 ? HeaderEnd : DataStart + DataEnd;
}
