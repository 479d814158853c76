using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Tests.Quants;
using Llamero.Tests.Support;

namespace Llamero.Tests.Quantization;

/// <summary>
/// Writes a small F32 Llama with real-shaped widths (multiples of 256 unless told otherwise) and grouped-query
/// attention, with stories260K's vocabulary so llama.cpp can load it. Random weights: quantization and loading
/// don't care what they mean.
/// </summary>
internal static class SyntheticLlama
{
    public const int Vocab = 512; // stories260K's

    public static string Write(string path, int dim = 256, int ffn = 512, int layers = 8, int heads = 8, int kvHeads = 2)
    {
        using var vocab = GgufFile.Open(TestPaths.Stories260K);
        using var w = new GgufWriter(path);
        var headDim = dim / heads;
        w.AddMetadata(GgufKeyValue.Of("general.architecture", "llama"));
        w.AddMetadata(GgufKeyValue.Of("general.name", "synthetic-llama"));
        w.AddMetadata(GgufKeyValue.Of("llama.context_length", 256u));
        w.AddMetadata(GgufKeyValue.Of("llama.embedding_length", (uint)dim));
        w.AddMetadata(GgufKeyValue.Of("llama.feed_forward_length", (uint)ffn));
        w.AddMetadata(GgufKeyValue.Of("llama.block_count", (uint)layers));
        w.AddMetadata(GgufKeyValue.Of("llama.attention.head_count", (uint)heads));
        w.AddMetadata(GgufKeyValue.Of("llama.attention.head_count_kv", (uint)kvHeads));
        w.AddMetadata(GgufKeyValue.Of("llama.attention.layer_norm_rms_epsilon", 1e-5f));
        w.AddMetadata(GgufKeyValue.Of("llama.rope.dimension_count", (uint)headDim));
        w.AddMetadata(GgufKeyValue.Of("general.file_type", 0u));
        w.AddMetadata(vocab.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)));

        // Declared in a natural order (not llama.cpp's sorted one) so the quantizer's reordering is exercised.
        var tensors = new List<(string Name, long[] Shape)>
        {
            ("token_embd.weight", [dim, Vocab]),
        };
        for (var l = 0; l < layers; l++)
        {
            tensors.Add(($"blk.{l}.attn_norm.weight", [dim]));
            tensors.Add(($"blk.{l}.attn_q.weight", [dim, dim]));
            tensors.Add(($"blk.{l}.attn_k.weight", [dim, kvHeads * headDim]));
            tensors.Add(($"blk.{l}.attn_v.weight", [dim, kvHeads * headDim]));
            tensors.Add(($"blk.{l}.attn_output.weight", [dim, dim]));
            tensors.Add(($"blk.{l}.ffn_norm.weight", [dim]));
            tensors.Add(($"blk.{l}.ffn_gate.weight", [dim, ffn]));
            tensors.Add(($"blk.{l}.ffn_up.weight", [dim, ffn]));
            tensors.Add(($"blk.{l}.ffn_down.weight", [ffn, dim]));
        }
        tensors.Add(("output_norm.weight", [dim]));
        tensors.Add(("output.weight", [dim, Vocab]));
        foreach (var (name, shape) in tensors)
            w.AddTensor(name, GgmlType.F32, shape);

        var rng = new Random(42);
        foreach (var (name, shape) in tensors)
        {
            var n = (int)shape.Aggregate(1L, (a, b) => a * b);
            var values = new float[n];
            var isNorm = shape.Length == 1;
            for (var i = 0; i < n; i++)
                values[i] = isNorm ? 1f + 0.1f * QuantRows.Gaussian(rng) : 0.02f * QuantRows.Gaussian(rng);
            // A few outliers per tensor, as trained weights have.
            for (var i = 0; !isNorm && i < n; i += 997)
                values[i] *= 20;
            w.WriteTensorData(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        w.Commit();
        return path;
    }
}
