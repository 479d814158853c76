using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Kernels;

/// <summary>Which implementation of a kernel runs. Each fast path has a scalar twin that is its specification.</summary>
public enum SimdLevel
{
    /// <summary>Plain C#, the specification every other path is tested against.</summary>
    Scalar = 0,
    /// <summary>Portable <see cref="Vector128"/> code (SSE/NEON).</summary>
    Vector128 = 1,
    /// <summary>Portable <see cref="Vector256"/> code.</summary>
    Vector256 = 2,
    /// <summary>x86 AVX2 + FMA intrinsics.</summary>
    Avx2 = 3,
    /// <summary>x86 AVX-512 (F + BW, VNNI where present).</summary>
    Avx512 = 4,
}

/// <summary>
/// The kernel path in force: the best the CPU supports, or the one named by the environment variable
/// <c>LLAMERO_SIMD</c> (scalar, vector128, vector256, avx2, avx512) so tests and benchmarks can force each.
/// </summary>
public static class SimdPath
{
    /// <summary>The environment variable that forces a path.</summary>
    public const string EnvironmentVariable = "LLAMERO_SIMD";

    /// <summary>The path kernels dispatch to.</summary>
    public static SimdLevel Current { get; set; } = FromEnvironment();

    /// <summary>The best path this CPU runs.</summary>
    public static SimdLevel Best =>
        Avx512F.IsSupported && Avx512BW.IsSupported ? SimdLevel.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? SimdLevel.Avx2
        : Vector256.IsHardwareAccelerated ? SimdLevel.Vector256
        : Vector128.IsHardwareAccelerated ? SimdLevel.Vector128
        : SimdLevel.Scalar;

    /// <summary>True when this CPU can run <paramref name="level"/>.</summary>
    public static bool IsSupported(SimdLevel level) => level switch
    {
        SimdLevel.Scalar => true,
        SimdLevel.Vector128 => Vector128.IsHardwareAccelerated,
        SimdLevel.Vector256 => Vector256.IsHardwareAccelerated,
        SimdLevel.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        SimdLevel.Avx512 => Avx512F.IsSupported && Avx512BW.IsSupported,
        _ => false,
    };

    /// <summary>Every path this CPU runs, scalar first (tests run each).</summary>
    public static IEnumerable<SimdLevel> Supported => Enum.GetValues<SimdLevel>().Where(IsSupported);

    private static SimdLevel FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value))
            return Best;
        if (!Enum.TryParse<SimdLevel>(value, ignoreCase: true, out var level))
            throw new InvalidOperationException($"{EnvironmentVariable}={value} is not one of: {string.Join(", ", Enum.GetNames<SimdLevel>())}.");
        if (!IsSupported(level))
            throw new InvalidOperationException($"{EnvironmentVariable}={value}: this CPU does not support that path.");
        return level;
    }
}
