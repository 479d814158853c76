using System.Runtime.Intrinsics.X86;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// Whether <c>Gemm</c> at <see cref="SimdLevel.Avx512"/> runs the 512-bit kernels (<see cref="IAvx512Gemm"/>) or the AVX2
/// ones. Off unless the environment variable <c>LLAMERO_AVX512_GEMM=1</c>: on an Ice Lake-class Xeon (AVX-512 F/BW/VNNI,
/// one thread, 16 activation rows × 256 rows × 4096 columns) they ran at 0.82-0.96× the AVX2 kernels' speed — without
/// VNNI (which .NET 10 exposes only as AVX10's), 512-bit vpmaddubsw has the same multiplies per cycle as two 256-bit
/// ones, and the 512-bit clock is lower. Both give the same bits, so the switch never changes a result.
/// </summary>
internal static class Avx512Kernels
{
    /// <summary>The environment variable that turns the 512-bit Gemm kernels on (value 1).</summary>
    public const string EnvironmentVariable = "LLAMERO_AVX512_GEMM";

    /// <summary>True when Gemm at the AVX-512 level runs the 512-bit kernels (tests and benchmarks may set it).</summary>
    public static bool GemmEnabled { get; set; } = Environment.GetEnvironmentVariable(EnvironmentVariable) == "1";

    /// <summary>True when a Gemm at <paramref name="level"/> runs the 512-bit kernel: the level is AVX-512, the CPU has
    /// AVX-512 F + BW, and <see cref="GemmEnabled"/> is set.</summary>
    public static bool RunGemm(SimdLevel level) => level == SimdLevel.Avx512 && GemmEnabled && Avx512BW.IsSupported;
}
