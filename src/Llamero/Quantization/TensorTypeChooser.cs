using System.Globalization;
using Llamero.Gguf;

namespace Llamero.Quantization;

/// <summary>
/// The per-tensor type choice of llama.cpp's <c>llama_tensor_get_type</c> (src/llama-quant.cpp) for the mixes
/// Llamero writes: which tensors are quantized at all, output/token-embedding rules, the attn_v and ffn_down
/// "more bits" layers, GQA- and 70B-dependent choices, and the fallbacks when a row does not fill a block.
/// Stateful like llama.cpp's: attn_v and ffn_down counters advance as tensors are visited, so visit tensors in
/// <see cref="LlamaOrder"/>.
/// </summary>
public sealed class TensorTypeChooser(QuantizationMix mix, ModelFacts model)
{
    private int _attentionV;
    private int _ffnDown;

    /// <summary>Tensors that fell back to another type because their rows don't fit the chosen block size.</summary>
    public List<string> Fallbacks { get; } = [];

    /// <summary>llama.cpp's tensor order when quantizing: tensors outside blocks first, then block by block, each
    /// group sorted by name (its weight_name_comparer).</summary>
    public static IComparer<string> LlamaOrder { get; } = Comparer<string>.Create((a, b) =>
    {
        var la = LayerOf(a);
        var lb = LayerOf(b);
        return la != lb ? la.CompareTo(lb) : string.CompareOrdinal(a, b);
    });

    /// <summary>The block index in a "blk.N." name, −1 for the others.</summary>
    public static int LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal))
            return -1;
        var end = name.IndexOf('.', 4);
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
    }

    /// <summary>Whether llama.cpp quantizes a tensor at all (weights of two or more dimensions, norms and a few
    /// small or special tensors excepted).</summary>
    public static bool IsQuantizable(string name, IReadOnlyList<long> dimensions)
    {
        var nDims = 1;
        for (var i = dimensions.Count - 1; i >= 1; i--)
        {
            if (dimensions[i] > 1)
            {
                nDims = i + 1;
                break;
            }
        }
        string[] excluded =
        [
            "_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d.weight",
            "shortconv.conv.weight", "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight",
            "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
            "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight",
            "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
            "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd.",
        ];
        return name.EndsWith("weight", StringComparison.Ordinal)
               && nDims >= 2
               && !excluded.Any(e => name.Contains(e, StringComparison.Ordinal))
               && name != "position_embd.weight"
               && name != "token_types.weight";
    }

    /// <summary>The type of a quantizable tensor (call once per tensor, in <see cref="LlamaOrder"/>).</summary>
    public GgmlType Choose(string name, IReadOnlyList<long> dimensions, bool pure)
    {
        var type = mix.DefaultType;
        if (pure || !mix.IsQuantized)
            return type;
        type = ChooseByRole(name, dimensions[0], type);
        return FallBackIfRowsDontFit(name, dimensions, type);
    }

    private bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    // With experts, llama.cpp reads the layer from the name; otherwise it counts tensors as they pass.
    private (int Layer, int Layers) LayerInfo(int counter, string name) =>
        model.ExpertCount > 1 ? (LayerOf(name), model.LayerCount) : (counter, model.LayerCount);

    private GgmlType ChooseByRole(string name, long rowLength, GgmlType type)
    {
        var f = mix.Name;
        if (name == "output.weight" || (!model.HasOutput && name == "token_embd.weight"))
        {
            if (model.IsFalcon || rowLength % GgmlTypes.Get(type).BlockSize != 0)
                return GgmlType.Q8_0;
            return type != GgmlType.Q8_0 ? GgmlType.Q6_K : type;
        }
        if (name == "token_embd.weight" || name == "per_layer_token_embd.weight")
            return type; // only the i-quant mixes change it
        if (name.Contains("attn_v.weight", StringComparison.Ordinal))
        {
            var i = _attentionV++;
            if (f == "Q2_K")
                type = model.Gqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (f == "Q3_K_M")
                type = i < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
            else if (f == "Q3_K_L")
                type = GgmlType.Q5_K;
            else if ((f == "Q4_K_M" || f == "Q5_K_M") && UseMoreBits(i, model.AttentionVCount))
                type = GgmlType.Q6_K;
            else if (f == "Q4_K_S" && i < 4)
                type = GgmlType.Q5_K;
            if (model.Is70B && type is GgmlType.Q3_K or GgmlType.Q4_K)
                type = GgmlType.Q5_K; // 8 heads share each attn_v: more bits cost little
            if (model.ExpertCount == 8)
                type = GgmlType.Q8_0;
            return type;
        }
        if (name.Contains("attn_k.weight", StringComparison.Ordinal))
            return model.ExpertCount == 8 ? GgmlType.Q8_0 : type;
        if (name.Contains("attn_q.weight", StringComparison.Ordinal))
            return type;
        if (name.Contains("ffn_down", StringComparison.Ordinal))
        {
            var (i, n) = LayerInfo(_ffnDown++, name);
            if (f == "Q2_K")
                type = GgmlType.Q3_K;
            else if (f == "Q3_K_M")
                type = i < n / 16 ? GgmlType.Q5_K : !model.IsFalcon || UseMoreBits(i, n) ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (f == "Q3_K_L")
                type = model.IsFalcon ? GgmlType.Q4_K : GgmlType.Q5_K;
            else if (f == "Q4_K_M")
            {
                if (model.IsFalcon)
                    type = i < n / 16 ? GgmlType.Q6_K : UseMoreBits(i, n) ? GgmlType.Q5_K : GgmlType.Q4_K;
                else if (UseMoreBits(i, n))
                    type = GgmlType.Q6_K;
            }
            else if (f == "Q5_K_M" && UseMoreBits(i, n))
                type = GgmlType.Q6_K;
            else if (f == "Q4_K_S" && !model.IsFalcon && i < n / 8)
                type = GgmlType.Q5_K;
            return type;
        }
        if (name.Contains("attn_output.weight", StringComparison.Ordinal))
        {
            if (model.IsFalcon)
                return f == "Q3_K_L" ? GgmlType.Q4_K : type;
            if (model.ExpertCount == 8)
                return f is "Q2_K" or "Q3_K_S" or "Q3_K_M" or "Q4_K_S" or "Q4_K_M" ? GgmlType.Q5_K : type;
            return f switch
            {
                "Q2_K" => GgmlType.Q3_K,
                "Q3_K_M" => GgmlType.Q4_K,
                "Q3_K_L" => GgmlType.Q5_K,
                _ => type,
            };
        }
        if (name.Contains("attn_qkv.weight", StringComparison.Ordinal))
        {
            return f switch
            {
                "Q3_K_M" or "Q3_K_L" => GgmlType.Q4_K,
                "Q4_K_M" => GgmlType.Q5_K,
                "Q5_K_M" => GgmlType.Q6_K,
                _ => type,
            };
        }
        return type;
    }

    // llama.cpp: a row that is not a whole number of blocks falls back to a 32-block type of similar size
    // (and to F16 if even that doesn't fit).
    private GgmlType FallBackIfRowsDontFit(string name, IReadOnlyList<long> dimensions, GgmlType type)
    {
        var rowLength = dimensions[0];
        if (rowLength % GgmlTypes.Get(type).BlockSize == 0)
            return type;
        var fallback = type switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.IQ4_NL,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => throw new InvalidOperationException(
                $"Tensor {name}: rows of {rowLength} elements don't fit {GgmlTypes.NameOf(type)} blocks of {GgmlTypes.Get(type).BlockSize}, and llama.cpp has no fallback for it."),
        };
        if (rowLength % GgmlTypes.Get(fallback).BlockSize != 0)
            fallback = GgmlType.F16;
        Fallbacks.Add($"{name} ({GgmlTypes.NameOf(type)} -> {GgmlTypes.NameOf(fallback)}, rows of {rowLength})");
        return fallback;
    }
}
