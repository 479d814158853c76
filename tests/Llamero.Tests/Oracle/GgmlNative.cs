using System.Runtime.InteropServices;
using Llamero.Gguf;

namespace Llamero.Tests.Oracle;

/// <summary>
/// llama.cpp's ggml row functions, loaded from the LLamaSharp.Backend.Cpu package (test oracle only).
/// The AVX2 build is used: it runs on every machine we test on and computes the same bits as the others
/// for dequantize/quantize_ref; vec_dot has a <c>_generic</c> scalar twin for exact comparisons.
/// </summary>
internal static unsafe class GgmlNative
{
    private static readonly nint BaseLib;
    private static readonly nint CpuLib;

    static GgmlNative()
    {
        var variant = Environment.GetEnvironmentVariable("LLAMERO_ORACLE_VARIANT") ?? "avx2";
        var dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", variant);
        BaseLib = NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        NativeLibrary.Load(Path.Combine(dir, "libggml.so"));
        CpuLib = NativeLibrary.Load(Path.Combine(dir, "libggml-cpu.so"));
        // Builds the fp16 lookup tables the CPU kernels use.
        if (NativeLibrary.TryGetExport(CpuLib, "ggml_cpu_init", out var init))
            ((delegate* unmanaged<void>)init)();
    }

    /// <summary>Address of an exported ggml function (base library first, then the CPU library).</summary>
    public static nint Export(string name) =>
        NativeLibrary.TryGetExport(BaseLib, name, out var p) || NativeLibrary.TryGetExport(CpuLib, name, out p)
            ? p
            : throw new EntryPointNotFoundException($"ggml does not export {name}");

    /// <summary>ggml's lower-case spelling of a type in function names (q4_K, q8_0, f16, bf16).</summary>
    public static string FunctionSuffix(GgmlType type)
    {
        var name = GgmlTypes.NameOf(type);
        return name.EndsWith("_K", StringComparison.Ordinal) ? name[..^2].ToLowerInvariant() + "_K" : name.ToLowerInvariant();
    }

    /// <summary><c>dequantize_row_{type}(const void* x, float* y, int64_t k)</c>.</summary>
    public static void DequantizeRow(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        var fn = (delegate* unmanaged<byte*, float*, long, void>)Export("dequantize_row_" + FunctionSuffix(type));
        fixed (byte* s = src)
        fixed (float* d = dst)
            fn(s, d, dst.Length);
    }

    /// <summary><c>quantize_row_{type}_ref(const float* x, void* y, int64_t k)</c> (no importance matrix).</summary>
    public static void QuantizeRowReference(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        var fn = (delegate* unmanaged<float*, byte*, long, void>)Export("quantize_row_" + FunctionSuffix(type) + "_ref");
        fixed (float* s = src)
        fixed (byte* d = dst)
            fn(s, d, src.Length);
    }

    /// <summary><c>quantize_row_{type}(const float* x, void* y, int64_t k)</c> from the CPU library
    /// (the activation quantizers q8_0, q8_1, q8_K as the CPU backend runs them).</summary>
    public static void QuantizeRowCpu(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        var fn = (delegate* unmanaged<float*, byte*, long, void>)NativeLibrary.GetExport(CpuLib, "quantize_row_" + FunctionSuffix(type));
        fixed (float* s = src)
        fixed (byte* d = dst)
            fn(s, d, src.Length);
    }

    /// <summary><c>ggml_vec_dot_{w}_{a}[_generic](int n, float* s, size_t bs, const void* x, size_t bx, const void* y, size_t by, int nrc)</c>.</summary>
    public static float VecDot(GgmlType weights, GgmlType activations, ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n, bool generic)
    {
        var name = $"ggml_vec_dot_{FunctionSuffix(weights)}_{FunctionSuffix(activations)}" + (generic ? "_generic" : "");
        var fn = (delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void>)Export(name);
        float result;
        fixed (byte* x = w)
        fixed (byte* y = a)
            fn(n, &result, 0, x, 0, y, 0, 1);
        return result;
    }
}
