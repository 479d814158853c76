using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Tests.Support;

namespace Llamero.Tests.Models;

/// <summary>The shape of a synthetic Llama model written for tests.</summary>
internal sealed record SyntheticLlamaSpec
{
    public int Dim { get; init; } = 256;
    public int Heads { get; init; } = 8;
    public int KvHeads { get; init; } = 1;
    public int FeedForward { get; init; } = 768;
    public int Layers { get; init; } = 2;
    public int ContextLength { get; init; } = 2048;
    public GgmlType WeightType { get; init; } = GgmlType.F32;
    public bool TiedOutput { get; init; }
    public float FreqBase { get; init; } = 10000f;
    public string? RopeScalingType { get; init; }
    public float RopeScalingFactor { get; init; } = 1f;
    public int RopeOriginalContext { get; init; }
    public int Seed { get; init; } = 1234;
    /// <summary>Weight of the planted bigram in output.weight (0: purely random logits).</summary>
    public float Bigram { get; init; } = 0.2f;
}

/// <summary>
/// Writes a Llama GGUF with seeded random weights and the real 512-token SentencePiece vocabulary of stories260K.
/// Scales are chosen so that attention is not uniform and logits spread by several units. Random logits leave
/// near-ties that any rounding difference flips (llama.cpp itself changes its greedy choice with the batch shape), so
/// output.weight also carries a planted bigram, as a trained model would: row j leans towards the embedding of the token
/// that j follows in a seeded permutation, which gives greedy decoding clear margins while the layers still steer it.
/// </summary>
internal static class SyntheticLlama
{
    public static string Write(SyntheticLlamaSpec spec, string? path = null)
    {
        path ??= Path.Combine(TestPaths.NewTempDir("llamero-synthetic"), "model.gguf");
        var rng = new Random(spec.Seed);
        using var vocabSource = GgufFile.Open(TestPaths.Stories260K);
        var vocab = vocabSource.Require<string[]>(GgufKeys.Tokenizer.Tokens).Length;
        int dim = spec.Dim, headSize = spec.Dim / spec.Heads, kv = spec.KvHeads * headSize, ffn = spec.FeedForward;

        using var writer = new GgufWriter(path);
        writer.AddMetadata(GgufKeyValue.Of("general.architecture", "llama"));
        writer.AddMetadata(GgufKeyValue.Of("general.name", "synthetic"));
        writer.AddMetadata(GgufKeyValue.Of("llama.context_length", (uint)spec.ContextLength));
        writer.AddMetadata(GgufKeyValue.Of("llama.embedding_length", (uint)dim));
        writer.AddMetadata(GgufKeyValue.Of("llama.block_count", (uint)spec.Layers));
        writer.AddMetadata(GgufKeyValue.Of("llama.feed_forward_length", (uint)ffn));
        writer.AddMetadata(GgufKeyValue.Of("llama.attention.head_count", (uint)spec.Heads));
        writer.AddMetadata(GgufKeyValue.Of("llama.attention.head_count_kv", (uint)spec.KvHeads));
        writer.AddMetadata(GgufKeyValue.Of("llama.attention.layer_norm_rms_epsilon", 1e-5f));
        writer.AddMetadata(GgufKeyValue.Of("llama.rope.dimension_count", (uint)headSize));
        writer.AddMetadata(GgufKeyValue.Of("llama.rope.freq_base", spec.FreqBase));
        if (spec.RopeScalingType is { } scaling)
        {
            writer.AddMetadata(GgufKeyValue.Of("llama.rope.scaling.type", scaling));
            writer.AddMetadata(GgufKeyValue.Of("llama.rope.scaling.factor", spec.RopeScalingFactor));
            if (spec.RopeOriginalContext > 0)
                writer.AddMetadata(GgufKeyValue.Of("llama.rope.scaling.original_context_length", (uint)spec.RopeOriginalContext));
        }
        writer.AddMetadata(GgufKeyValue.Of("general.file_type", spec.WeightType == GgmlType.F16 ? 1u : 0u));
        writer.AddMetadata(vocabSource.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)));

        // (name, rows, cols, std, is norm) in llama.cpp's tensor order.
        var tensors = new List<(string Name, int Rows, int Cols, float Std, bool Norm)>
        {
            ("token_embd.weight", vocab, dim, 1f, false),
        };
        for (var l = 0; l < spec.Layers; l++)
        {
            var p = $"blk.{l}.";
            tensors.Add((p + "attn_norm.weight", 1, dim, 0.1f, true));
            tensors.Add((p + "attn_q.weight", dim, dim, 2f / MathF.Sqrt(dim), false));
            tensors.Add((p + "attn_k.weight", kv, dim, 2f / MathF.Sqrt(dim), false));
            tensors.Add((p + "attn_v.weight", kv, dim, 1f / MathF.Sqrt(dim), false));
            tensors.Add((p + "attn_output.weight", dim, dim, 1f / MathF.Sqrt(dim), false));
            tensors.Add((p + "ffn_norm.weight", 1, dim, 0.1f, true));
            tensors.Add((p + "ffn_gate.weight", ffn, dim, 1f / MathF.Sqrt(dim), false));
            tensors.Add((p + "ffn_up.weight", ffn, dim, 1f / MathF.Sqrt(dim), false));
            tensors.Add((p + "ffn_down.weight", dim, ffn, 1f / MathF.Sqrt(ffn), false));
        }
        tensors.Add(("output_norm.weight", 1, dim, 0.1f, true));
        if (!spec.TiedOutput)
            tensors.Add(("output.weight", vocab, dim, 3f / MathF.Sqrt(dim), false));

        foreach (var t in tensors)
        {
            var type = t.Norm ? GgmlType.F32 : spec.WeightType;
            writer.AddTensor(t.Name, type, t.Rows == 1 ? [t.Cols] : [t.Cols, t.Rows]);
        }
        var successor = Enumerable.Range(0, vocab).OrderBy(_ => rng.Next()).ToArray();
        float[]? embedding = null;
        foreach (var t in tensors)
        {
            var values = new float[t.Rows * t.Cols];
            for (var i = 0; i < values.Length; i++)
                values[i] = (t.Norm ? 1f : 0f) + t.Std * Gaussian(rng);
            if (t.Name == "token_embd.weight")
                embedding = values;
            if (t.Name == "output.weight" && spec.Bigram != 0)
            {
                for (var token = 0; token < vocab; token++)
                {
                    var row = successor[token];
                    for (var i = 0; i < dim; i++)
                        values[row * dim + i] += spec.Bigram * embedding![token * dim + i];
                }
            }
            if (t.Norm || spec.WeightType == GgmlType.F32)
            {
                writer.WriteTensorData(MemoryMarshal.AsBytes(values.AsSpan()));
            }
            else
            {
                var halves = values.Select(v => (Half)v).ToArray();
                writer.WriteTensorData(MemoryMarshal.AsBytes(halves.AsSpan()));
            }
        }
        writer.Commit();
        return path;
    }

    /// <summary>Copies <paramref name="source"/> with metadata edited (null drops a key) and only the tensors kept.</summary>
    public static string Rewrite(string source, Func<GgufKeyValue, GgufKeyValue?> metadata, Func<GgufTensorInfo, bool> keepTensor)
    {
        var path = Path.Combine(TestPaths.NewTempDir("llamero-rewrite"), "model.gguf");
        using var src = GgufFile.Open(source);
        using var writer = new GgufWriter(path);
        foreach (var kv in src.Metadata)
        {
            if (metadata(kv) is { } edited)
                writer.AddMetadata(edited);
        }
        var kept = src.Tensors.Where(keepTensor).ToList();
        foreach (var t in kept)
            writer.AddTensor(t.Name, t.Type, t.Dimensions);
        foreach (var t in kept)
            writer.WriteTensorData(src, t);
        writer.Commit();
        return path;
    }

    private static float Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
