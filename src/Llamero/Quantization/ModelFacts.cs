using Llamero.Gguf;

namespace Llamero.Quantization;

/// <summary>What llama.cpp's per-tensor type choice looks at in a model: architecture, layer and head counts,
/// experts, and which tensors it holds.</summary>
public sealed record ModelFacts(string Architecture, int LayerCount, int HeadCount, int KvHeadCount, int ExpertCount,
    bool HasOutput, int AttentionVCount)
{
    /// <summary>Query heads per KV head (llama.cpp's n_gqa(), integer division).</summary>
    public int Gqa => KvHeadCount > 0 ? HeadCount / KvHeadCount : 0;

    /// <summary>llama.cpp's LLM_TYPE_70B for Llama: 80 layers and grouped-query attention.</summary>
    public bool Is70B => Architecture == "llama" && LayerCount == 80 && HeadCount != KvHeadCount;

    public bool IsFalcon => Architecture == "falcon";

    /// <summary>Reads the facts from an open GGUF file.</summary>
    public static ModelFacts Of(GgufFile file)
    {
        var arch = file.GetOrDefault(GgufKeys.General.Architecture, "llama");
        var heads = FirstInt(file, $"{arch}.attention.head_count", 0);
        return new ModelFacts(
            arch,
            FirstInt(file, $"{arch}.block_count", 0),
            heads,
            FirstInt(file, $"{arch}.attention.head_count_kv", heads),
            FirstInt(file, $"{arch}.expert_count", 0),
            file.Tensors.Any(t => t.Name == "output.weight"),
            file.Tensors.Count(t => t.Name.Contains("attn_v.weight", StringComparison.Ordinal)
                                    || t.Name.Contains("attn_qkv.weight", StringComparison.Ordinal)
                                    || t.Name.Contains("attn_kv_b.weight", StringComparison.Ordinal)));
    }

    // Head counts may be per-layer arrays; llama.cpp's n_head() is the first layer's.
    private static int FirstInt(GgufFile file, string key, int fallback) =>
        file.TryGet<int>(key, out var v) ? v
        : file.TryGet<int[]>(key, out var a) && a.Length > 0 ? a[0]
        : fallback;
}
