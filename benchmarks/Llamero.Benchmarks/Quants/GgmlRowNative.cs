using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;

namespace Llamero.Benchmarks.Quants;

/// <summary>
/// llama.cpp's row kernels for the float and 32-element block formats (ggml_vec_dot_*, the CPU backend's
/// activation quantizers), from LLamaSharp.Backend.Cpu: avx512 build where the CPU has it, else avx2.
/// </summary>
internal static unsafe class GgmlRowNative
{
    private static readonly nint CpuLib = Load();

    private static nint Load()
    {
        var variant = Environment.GetEnvironmentVariable("LLAMERO_ORACLE_VARIANT") ?? (Avx512BW.IsSupported ? "avx512" : "avx2");
        var dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", variant);
        NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        NativeLibrary.Load(Path.Combine(dir, "libggml.so"));
        var cpu = NativeLibrary.Load(Path.Combine(dir, "libggml-cpu.so"));
        if (NativeLibrary.TryGetExport(cpu, "ggml_cpu_init", out var init))
            ((delegate* unmanaged<void>)init)();
        return cpu;
    }

    private static string Suffix(GgmlType t)
    {
        var name = GgmlTypes.NameOf(t);
        return name.EndsWith("_K", StringComparison.Ordinal) ? name[..^2].ToLowerInvariant() + "_K" : name.ToLowerInvariant();
    }

    /// <summary>ggml_vec_dot for weights of <paramref name="type"/> against <paramref name="partner"/> activations.</summary>
    public static delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void> VecDot(GgmlType type, GgmlType partner) =>
        (delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void>)NativeLibrary.GetExport(CpuLib,
            type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 ? $"ggml_vec_dot_{Suffix(type)}" : $"ggml_vec_dot_{Suffix(type)}_{Suffix(partner)}");

    /// <summary>The CPU backend's from-float for an activation type (quantize_row_q8_0, ggml_cpu_fp32_to_fp16, ...);
    /// null for F32 (used as is).</summary>
    public static delegate* unmanaged<float*, byte*, long, void> FromFloat(GgmlType partner) => partner switch
    {
        GgmlType.F32 => null,
        GgmlType.F16 => (delegate* unmanaged<float*, byte*, long, void>)NativeLibrary.GetExport(CpuLib, "ggml_cpu_fp32_to_fp16"),
        GgmlType.BF16 => (delegate* unmanaged<float*, byte*, long, void>)NativeLibrary.GetExport(CpuLib, "ggml_cpu_fp32_to_bf16"),
        _ => (delegate* unmanaged<float*, byte*, long, void>)NativeLibrary.GetExport(CpuLib, "quantize_row_" + Suffix(partner)),
    };
}
