namespace Llamero.Models;

/// <summary>How <see cref="LlamaModel.Load(string, ModelLoadOptions, IProgress{double}?)"/> prepares the weights.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Repack, keep the defaults.</summary>
    public static ModelLoadOptions Default { get; } = new();

    /// <summary>
    /// Copy the matrices of formats that have a faster interleaved layout (<see cref="Quants.Interleaved.InterleavedLayouts"/>)
    /// into it at load time, as llama.cpp's CPU backend repacks Q4_0/Q4_K (default true). It costs a copy at load and
    /// the copy's memory instead of the file's pages; false (llama.cpp's <c>--no-repack</c>) multiplies the mapped
    /// file as it is.
    /// </summary>
    public bool RepackWeights { get; init; } = true;

    /// <summary>Which layout each format is repacked into (default <see cref="Quants.Interleaved.InterleavedLayouts.Default"/>);
    /// tests force the reference layouts through it.</summary>
    internal Func<Gguf.GgmlType, Quants.Interleaved.WeightLayout?> LayoutFor { get; init; } = Quants.Interleaved.InterleavedLayouts.Default;
}
