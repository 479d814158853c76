using System.Runtime.InteropServices;
using LLama;
using LLama.Native;
using Llamero.Gguf;

namespace Llamero.Benchmarks.SideBySide;

/// <summary>
/// Writes benchmark models: an F16 GGUF of a <see cref="ModelShape"/> with seeded random weights and the real Llama-2
/// vocabulary, then quantized by llama.cpp's own llama-quantize (so both engines read the very same file with the
/// real per-tensor mix). Files are cached in a folder and reused.
/// </summary>
internal static class SyntheticModelFiles
{
    /// <summary>The GGUF of <paramref name="shape"/> in <paramref name="mix"/> (an <see cref="LLamaFtype"/> name
    /// without MOSTLY_, e.g. Q4_K_M), writing it under <paramref name="folder"/> if it is not there yet.</summary>
    public static string Get(ModelShape shape, string mix, string folder, string vocabPath)
    {
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, $"{shape.Name}.{mix}.gguf");
        if (File.Exists(target))
            return target;
        var f16 = Path.Combine(folder, $"{shape.Name}.F16.gguf");
        if (!File.Exists(f16))
        {
            Console.Error.WriteLine($"writing {f16} ...");
            WriteF16(shape, f16, vocabPath);
        }
        if (mix == "F16")
            return f16;
        if (!Enum.TryParse<LLamaFtype>("MOSTLY_" + mix, out var ftype))
            throw new ArgumentException($"unknown mix {mix}");
        Console.Error.WriteLine($"quantizing to {target} with llama.cpp ...");
        NativeApi.llama_empty_call();
        NativeLogConfig.llama_log_set((_, _) => { });
        if (!LLamaQuantizer.Quantize(f16, target + ".tmp", ftype, Environment.ProcessorCount, allowRequantize: true, quantizeOutputTensor: true))
            throw new InvalidOperationException($"llama.cpp could not quantize {f16} to {mix}");
        File.Move(target + ".tmp", target);
        return target;
    }

    private static void WriteF16(ModelShape s, string path, string vocabPath)
    {
        using var vocab = GgufFile.Open(vocabPath);
        using var writer = new GgufWriter(path);
        var headSize = s.Dim / s.Heads;
        writer.AddMetadata(GgufKeyValue.Of("general.architecture", "llama"));
        writer.AddMetadata(GgufKeyValue.Of("general.name", s.Name + " (random weights)"));
        writer.AddMetadata(GgufKeyValue.Of("general.file_type", 1u));
        writer.AddMetadata(GgufKeyValue.Of("llama.context_length", 4096u));
        writer.AddMetadata(GgufKeyValue.Of("llama.embedding_length", (uint)s.Dim));
        writer.AddMetadata(GgufKeyValue.Of("llama.block_count", (uint)s.Layers));
        writer.AddMetadata(GgufKeyValue.Of("llama.feed_forward_length", (uint)s.FeedForward));
        writer.AddMetadata(GgufKeyValue.Of("llama.attention.head_count", (uint)s.Heads));
        writer.AddMetadata(GgufKeyValue.Of("llama.attention.head_count_kv", (uint)s.KvHeads));
        writer.AddMetadata(GgufKeyValue.Of("llama.attention.layer_norm_rms_epsilon", 1e-5f));
        writer.AddMetadata(GgufKeyValue.Of("llama.rope.dimension_count", (uint)headSize));
        writer.AddMetadata(vocab.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)));

        var kv = s.KvHeads * headSize;
        var tensors = new List<(string Name, long Cols, long Rows)> { ("token_embd.weight", s.Dim, s.Vocab) };
        for (var l = 0; l < s.Layers; l++)
        {
            tensors.Add(($"blk.{l}.attn_norm.weight", s.Dim, 1));
            tensors.Add(($"blk.{l}.attn_q.weight", s.Dim, s.Dim));
            tensors.Add(($"blk.{l}.attn_k.weight", s.Dim, kv));
            tensors.Add(($"blk.{l}.attn_v.weight", s.Dim, kv));
            tensors.Add(($"blk.{l}.attn_output.weight", s.Dim, s.Dim));
            tensors.Add(($"blk.{l}.ffn_norm.weight", s.Dim, 1));
            tensors.Add(($"blk.{l}.ffn_gate.weight", s.Dim, s.FeedForward));
            tensors.Add(($"blk.{l}.ffn_up.weight", s.Dim, s.FeedForward));
            tensors.Add(($"blk.{l}.ffn_down.weight", s.FeedForward, s.Dim));
        }
        tensors.Add(("output_norm.weight", s.Dim, 1));
        tensors.Add(("output.weight", s.Dim, s.Vocab));
        foreach (var t in tensors)
            writer.AddTensor(t.Name, t.Rows == 1 ? GgmlType.F32 : GgmlType.F16, t.Rows == 1 ? [t.Cols] : [t.Cols, t.Rows]);

        // A pool of random rows reused cyclically: the values don't change the speed, and this keeps writing fast.
        var rng = new Random(7);
        foreach (var t in tensors)
        {
            if (t.Rows == 1)
            {
                writer.WriteTensorData(MemoryMarshal.AsBytes(Enumerable.Repeat(1f, (int)t.Cols).ToArray().AsSpan()));
                continue;
            }
            var scale = 1f / MathF.Sqrt(t.Cols);
            const int poolRows = 61;
            var pool = new Half[poolRows * t.Cols];
            for (var i = 0; i < pool.Length; i++)
                pool[i] = (Half)((rng.NextSingle() * 2 - 1) * 1.7f * scale);
            for (long r = 0; r < t.Rows; r += poolRows)
            {
                var rows = (int)Math.Min(poolRows, t.Rows - r);
                writer.WriteTensorData(MemoryMarshal.AsBytes(pool.AsSpan(0, (int)(rows * t.Cols))));
            }
        }
        writer.Commit();
    }
}
