using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Benchmarks.Quants;

/// <summary>
/// llama.cpp's <c>ggml_vec_dot_*</c> from LLamaSharp.Backend.Cpu, for side-by-side timing. The variant matches
/// the CPU (avx512 where present, else avx2), as llama.cpp itself would choose.
/// </summary>
internal static unsafe class GgmlDotNative
{
    private static readonly nint CpuLib = Load();

    private static nint Load()
    {
        var variant = Environment.GetEnvironmentVariable("LLAMERO_ORACLE_VARIANT")
                      ?? (Avx512BW.IsSupported ? "avx512" : "avx2");
        var dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", variant);
        NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        NativeLibrary.Load(Path.Combine(dir, "libggml.so"));
        var cpu = NativeLibrary.Load(Path.Combine(dir, "libggml-cpu.so"));
        if (NativeLibrary.TryGetExport(cpu, "ggml_cpu_init", out var init))
            ((delegate* unmanaged<void>)init)();
        return cpu;
    }

    /// <summary><c>ggml_vec_dot_{w}_q8_K(int n, float* s, size_t bs, const void* x, size_t bx, const void* y, size_t by, int nrc)</c>.</summary>
    public static delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void> VecDot(string weightType) =>
        (delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void>)
        NativeLibrary.GetExport(CpuLib, $"ggml_vec_dot_{weightType[..^2].ToLowerInvariant()}_K_q8_K");
}
