using System.Runtime.InteropServices;

namespace Llamero.Tests.Sampling;

/// <summary>
/// llama.cpp's own sampler chain from libllama.so (LLamaSharp.Backend.Cpu, AVX2 build), driven on a logits row
/// without any model: the oracle for the order, meaning and random draws of Llamero's samplers.
/// </summary>
internal sealed unsafe class NativeSamplerChain : IDisposable
{
    [StructLayout(LayoutKind.Sequential)]
    private struct TokenData
    {
        public int Id;
        public float Logit;
        public float P;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TokenDataArray
    {
        public TokenData* Data;
        public nuint Size;
        public long Selected;
        public byte Sorted;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct LogitBias
    {
        public int Token;
        public float Bias;
    }

    private static readonly nint Lib = NativeLibrary.Load(Path.Combine(
        AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "avx2", "libllama.so"));

    private readonly nint _chain;

    public NativeSamplerChain()
    {
        var init = (delegate* unmanaged<byte, nint>)Export("llama_sampler_chain_init");
        _chain = init(1); // no_perf = true
    }

    private static nint Export(string name) => NativeLibrary.GetExport(Lib, name);

    private void Add(nint sampler) => ((delegate* unmanaged<nint, nint, void>)Export("llama_sampler_chain_add"))(_chain, sampler);

    public NativeSamplerChain LogitBiases(int vocab, LogitBias[] biases)
    {
        fixed (LogitBias* b = biases)
            Add(((delegate* unmanaged<int, int, LogitBias*, nint>)Export("llama_sampler_init_logit_bias"))(vocab, biases.Length, b));
        return this;
    }

    public NativeSamplerChain Penalties(int lastN, float repeat, float frequency, float presence)
    {
        Add(((delegate* unmanaged<int, float, float, float, nint>)Export("llama_sampler_init_penalties"))(lastN, repeat, frequency, presence));
        return this;
    }

    public NativeSamplerChain TopK(int k)
    {
        Add(((delegate* unmanaged<int, nint>)Export("llama_sampler_init_top_k"))(k));
        return this;
    }

    public NativeSamplerChain Typical(float p) => AddWithMinKeep("llama_sampler_init_typical", p);

    public NativeSamplerChain TopP(float p) => AddWithMinKeep("llama_sampler_init_top_p", p);

    public NativeSamplerChain MinP(float p) => AddWithMinKeep("llama_sampler_init_min_p", p);

    public NativeSamplerChain Temperature(float t)
    {
        Add(((delegate* unmanaged<float, nint>)Export("llama_sampler_init_temp"))(t));
        return this;
    }

    public NativeSamplerChain Dist(uint seed)
    {
        Add(((delegate* unmanaged<uint, nint>)Export("llama_sampler_init_dist"))(seed));
        return this;
    }

    public NativeSamplerChain MirostatV2(uint seed, float tau, float eta)
    {
        Add(((delegate* unmanaged<uint, float, float, nint>)Export("llama_sampler_init_mirostat_v2"))(seed, tau, eta));
        return this;
    }

    private NativeSamplerChain AddWithMinKeep(string function, float p)
    {
        Add(((delegate* unmanaged<float, nuint, nint>)Export(function))(p, 0));
        return this;
    }

    /// <summary>Applies the chain to a fresh candidate array built from <paramref name="logits"/>; returns the picked id.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        var data = new TokenData[logits.Length];
        for (var i = 0; i < logits.Length; i++)
            data[i] = new TokenData { Id = i, Logit = logits[i] };
        fixed (TokenData* d = data)
        {
            var array = new TokenDataArray { Data = d, Size = (nuint)data.Length, Selected = -1, Sorted = 0 };
            ((delegate* unmanaged<nint, TokenDataArray*, void>)Export("llama_sampler_apply"))(_chain, &array);
            return d[array.Selected].Id;
        }
    }

    public void Accept(int token) => ((delegate* unmanaged<nint, int, void>)Export("llama_sampler_accept"))(_chain, token);

    public void Dispose() => ((delegate* unmanaged<nint, void>)Export("llama_sampler_free"))(_chain);
}
