using System.Globalization;
using LLama.Native;
using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Models;
using Llamero.Quants.Interleaved;
using Llamero.Tests.Oracle;
using Llamero.Tests.Support;

namespace Llamero.Tests.Models;

/// <summary>
/// Loading with weights repacked (here into the reference layouts, which exist for every format) on real files:
/// the model predicts what the plain one does, the file's bytes stay readable after their pages are released, split
/// files and odd row counts load, and disposing the model frees the copies without a use-after-free.
/// </summary>
public sealed class RepackLoadTests : IDisposable
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315];

    private static readonly ModelLoadOptions Plain = new() { RepackWeights = false };
    private static readonly ModelLoadOptions Reference = new() { LayoutFor = InterleavedLayouts.Reference };

    // A synthetic Synthia-layout model (every matrix a multiple of 8 rows) quantized by llama.cpp into Q4_K_M: Q4_K
    // and Q6_K matrices, F32 norms.
    private static readonly Lazy<string> Quantized = new(() =>
    {
        var source = SyntheticLlama.Write(SyntheticModelTests.Small with { Seed = 5, Layers = 4 });
        var path = Path.Combine(TestPaths.NewTempDir("llamero-repack"), "model-Q4_K_M.gguf");
        LlamaCppModel.Quantize(source, path, LLamaFtype.MOSTLY_Q4_K_M);
        return path;
    });

    private readonly string _dir = TestPaths.NewTempDir("llamero-repack-split");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[] Logits(string path, ModelLoadOptions options)
    {
        using var model = LlamaModel.Load(path, options);
        using var session = model.CreateSession(64, KvCacheOptions.F32);
        var logits = new float[Prompt.Length * model.Config.VocabSize];
        session.EvaluateAll(Prompt, logits);
        return logits;
    }

    // Summation order is all that differs (the reference layout adds block dots one by one), so float rounding.
    private static void AssertSamePredictions(float[] expected, float[] actual, int vocab)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var p = 0; p < expected.Length / vocab; p++)
        {
            var e = expected.AsSpan(p * vocab, vocab);
            var a = actual.AsSpan(p * vocab, vocab);
            var scale = Math.Max(1.0, e.ToArray().Max(Math.Abs));
            Assert.True(ModelAssert.MaxAbsDiff(e, a) <= 1e-4 * scale, $"position {p}: max |diff| {ModelAssert.MaxAbsDiff(e, a):G3} (scale {scale:G3})");
            Assert.Equal(ModelAssert.ArgMax(e), ModelAssert.ArgMax(a));
        }
    }

    [Fact]
    public void Stories260K_repacked_predicts_what_the_plain_model_does_and_keeps_odd_row_counts_plain()
    {
        using (var model = LlamaModel.Load(TestPaths.Stories260K, Reference))
        {
            // stories260K: ffn 172 rows (not whole groups of 8) stay plain; q, k, v, o, down (64/32/32/64/64 rows) of
            // 5 layers and the 512-row output are repacked.
            Assert.Equal(5 * 5 + 1, model.Repacked.Matrices);
            foreach (var layer in model.Weights.Layers)
            {
                Assert.Null(layer.Gate.Layout);
                Assert.Null(layer.Up.Layout);
                Assert.All(new[] { layer.Query, layer.Key, layer.Value, layer.Output, layer.Down }, m => Assert.Equal("F32x8-reference", m.Layout?.Name));
            }
            Assert.NotNull(model.Weights.Output.Layout);
            Assert.Null(model.Weights.TokenEmbedding.Layout);
            var expectedBytes = model.Weights.Layers.Sum(l => l.Query.ByteSize + l.Key.ByteSize + l.Value.ByteSize + l.Output.ByteSize + l.Down.ByteSize)
                                + model.Weights.Output.ByteSize;
            Assert.Equal(expectedBytes, model.Repacked.Bytes);
        }
        AssertSamePredictions(Logits(TestPaths.Stories260K, Plain), Logits(TestPaths.Stories260K, Reference), 512);
    }

    [Fact]
    public void Quantized_model_repacked_predicts_what_the_plain_model_does()
    {
        using (var model = LlamaModel.Load(Quantized.Value, Reference))
        {
            var layouts = model.Weights.Layers.SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down })
                .Append(model.Weights.Output).Select(m => m.Layout?.Name ?? "plain").Distinct().Order().ToArray();
            Assert.Equal(["Q4_Kx8-reference", "Q6_Kx8-reference"], layouts);
            Assert.Equal(4 * 7 + 1, model.Repacked.Matrices);
        }
        AssertSamePredictions(Logits(Quantized.Value, Plain), Logits(Quantized.Value, Reference), 512);
    }

    [Fact]
    public void Quantized_model_in_the_default_layouts_predicts_what_the_plain_model_does()
    {
        AssertSamePredictions(Logits(Quantized.Value, Plain), Logits(Quantized.Value, ModelLoadOptions.Default), 512);
    }

    [Fact]
    public void Every_entry_point_that_loads_a_model_passes_the_switch_through()
    {
        // The default layouts cover Q4_K and Q6_K, so the Q4_K_M model repacks unless told not to.
        var path = Quantized.Value;
        using (var llm = Llm.Load(path))
            Assert.Equal(4 * 7 + 1, llm.Model.Repacked.Matrices);
        using (var llm = Llm.Load(path, new LlmOptions { RepackWeights = false }))
            Assert.Equal(0, llm.Model.Repacked.Matrices);
        using (var evaluation = Llamero.Evaluation.EvaluationModel.Open(path, load: Plain))
            Assert.Equal(0, evaluation.Model.Repacked.Matrices);
        using (var evaluation = Llamero.Evaluation.EvaluationModel.Open(path))
            Assert.Equal(4 * 7 + 1, evaluation.Model.Repacked.Matrices);
        using (var engine = Llamero.Server.Engine.LlameroEngine.Load(path, load: Plain))
            Assert.Equal(0, engine.Model.Repacked.Matrices);
        using (var engine = Llamero.Server.Engine.LlameroEngine.Load(path))
            Assert.Equal(4 * 7 + 1, engine.Model.Repacked.Matrices);
    }

    [Fact]
    public void Released_pages_come_back_from_the_file_with_the_original_bytes()
    {
        var path = Quantized.Value;
        var bytes = File.ReadAllBytes(path);
        using var model = LlamaModel.Load(path, Reference);
        var file = model.File;
        var repacked = RepackedTensors(model).ToArray();
        var repackedBytes = repacked.Sum(t => t.ByteSize);
        Assert.True(repackedBytes > 1 << 20, $"{repackedBytes} bytes repacked");

        // Repacking read every byte of those tensors through the mapping; released, most of them are no longer resident.
        var mapping = file.GetTensorPointer(file.Tensors[0]);
        var afterLoad = ProcessMemory.ResidentBytesOfMapping(mapping);
        Assert.True(afterLoad < repackedBytes / 2, $"after load {afterLoad} bytes of the mapping are resident; the repacked tensors alone hold {repackedBytes}");

        foreach (var t in repacked)
        {
            var expected = bytes.AsSpan(checked((int)(file.DataOffset() + t.Offset)), checked((int)t.ByteSize));
            Assert.True(expected.SequenceEqual(file.GetTensorData(t)), $"{t.Name}: the mapped bytes differ from the file's");
        }
        var afterRead = ProcessMemory.ResidentBytesOfMapping(mapping);
        Assert.True(afterRead >= repackedBytes, $"reading them again brought {afterRead} bytes back, fewer than the {repackedBytes} read");
    }

    [Fact]
    public void Loading_with_progress_counts_each_tensor_once_and_does_not_read_the_repacked_ones_back()
    {
        var reports = new List<double>();
        using var model = LlamaModel.Load(Quantized.Value, Reference, new SyncProgress(reports.Add));
        Assert.Equal(1.0, reports[^1], 9);
        Assert.True(reports.SequenceEqual(reports.Order()), string.Join(", ", reports));
        Assert.True(reports.Count >= model.Repacked.Matrices, $"{reports.Count} reports");
        var repackedBytes = RepackedTensors(model).Sum(t => t.ByteSize);
        var resident = ProcessMemory.ResidentBytesOfMapping(model.File.GetTensorPointer(model.File.Tensors[0]));
        var plainBytes = model.File.Tensors.Sum(t => t.ByteSize) - repackedBytes;
        Assert.True(resident < plainBytes + repackedBytes / 2, $"{resident} bytes resident; the tensors left plain hold {plainBytes}, the repacked {repackedBytes}");
    }

    [Fact]
    public void A_byte_split_model_whose_repacked_tensor_straddles_the_cut_loads_and_predicts_the_same()
    {
        var source = Quantized.Value;
        var bytes = File.ReadAllBytes(source);
        long cut;
        string straddling;
        using (var file = GgufFile.Open(source))
        {
            var t = file.GetTensor("blk.0.ffn_up.weight");
            straddling = t.Name;
            cut = file.DataOffset() + t.Offset + t.ByteSize / 2 + 7;
        }
        var joined = Path.Combine(_dir, "split.gguf");
        File.WriteAllBytes(GgufSplitNaming.PartPath(joined, 0), bytes[..(int)cut]);
        File.WriteAllBytes(GgufSplitNaming.PartPath(joined, 1), bytes[(int)cut..]);

        using (var model = LlamaModel.Load(joined, Reference))
        {
            Assert.Equal(2, model.File.Files.Count);
            Assert.NotNull(model.Weights.Layers[0].Up.Layout);
            // The straddling tensor is a copy out of both parts: releasing "its pages" must not have touched it.
            foreach (var t in RepackedTensors(model))
            {
                var expected = bytes.AsSpan(checked((int)(model.File.DataOffset() + t.Offset)), checked((int)t.ByteSize));
                Assert.True(expected.SequenceEqual(model.File.GetTensorData(t)), $"{t.Name} (straddling: {straddling}) differs from the file's bytes");
            }
        }
        AssertSamePredictions(Logits(source, Plain), Logits(joined, Reference), 512);
    }

    [Fact]
    public void Disposing_the_model_frees_the_copies_and_its_sessions_then_refuse_to_evaluate()
    {
        var model = LlamaModel.Load(TestPaths.Stories260K, Reference);
        var session = model.CreateSession(64);
        var decoder = model.CreateBatchDecoder(16, 2);
        session.Evaluate(Prompt[..4]);
        model.Dispose();
        Assert.Equal((0, 0L), model.Repacked);
        Assert.Throws<ObjectDisposedException>(() => session.Evaluate(Prompt[4..6]));
        Assert.Throws<ObjectDisposedException>(() => decoder.Decode([new SequenceTokens(session, Prompt[4..6])]));
        model.Dispose(); // twice is harmless
    }

    [Fact]
    public async Task Disposing_the_model_while_a_session_evaluates_waits_for_the_pass_to_finish()
    {
        var model = LlamaModel.Load(Quantized.Value, Reference);
        using var started = new ManualResetEventSlim();
        var passes = 0;
        var worker = Task.Run(() =>
        {
            using var session = model.CreateSession(512);
            try
            {
                while (true)
                {
                    session.Truncate(0);
                    session.Evaluate(Prompt);
                    passes++;
                    started.Set();
                }
            }
            catch (ObjectDisposedException)
            {
                return passes;
            }
        });
        Assert.True(started.Wait(TimeSpan.FromMinutes(2)), "no pass finished");
        model.Dispose();
        var finished = await worker.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(finished >= 1, finished.ToString(CultureInfo.InvariantCulture));
    }

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    private static IEnumerable<GgufTensorInfo> RepackedTensors(LlamaModel model)
    {
        var names = new List<string> { "output.weight" };
        for (var l = 0; l < model.Config.BlockCount; l++)
        {
            var layer = model.Weights.Layers[l];
            foreach (var (name, m) in new[] { ("attn_q", layer.Query), ("attn_k", layer.Key), ("attn_v", layer.Value), ("attn_output", layer.Output),
                         ("ffn_gate", layer.Gate), ("ffn_up", layer.Up), ("ffn_down", layer.Down) })
            {
                if (m.Layout is not null)
                    names.Add($"blk.{l}.{name}.weight");
            }
        }
        return names.Where(n => model.File.TryGetTensor(n, out _)).Select(model.File.GetTensor);
    }
}

/// <summary>What /proc/self/smaps says about this process's memory (Linux).</summary>
internal static class ProcessMemory
{
    /// <summary>Resident bytes of the mapping that contains <paramref name="address"/>.</summary>
    public static long ResidentBytesOfMapping(nint address) =>
        long.Parse(FieldOfMapping(address, "Rss:").Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture) * 1024;

    /// <summary>The VmFlags of the mapping that contains <paramref name="address"/> (e.g. hg: huge pages advised, nh: not).</summary>
    public static string[] FlagsOfMapping(nint address) => FieldOfMapping(address, "VmFlags:").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    // The rest of the line starting with `field` in the smaps entry of the mapping that contains `address`.
    private static string FieldOfMapping(nint address, string field)
    {
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var dash = line.IndexOf('-');
            var space = line.IndexOf(' ');
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end))
            {
                inside = (ulong)address >= start && (ulong)address < end;
                continue;
            }
            if (inside && line.StartsWith(field, StringComparison.Ordinal))
                return line[field.Length..].Trim();
        }
        throw new InvalidOperationException($"no mapping holds 0x{address:x}");
    }
}
