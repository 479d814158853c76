using System.Globalization;
using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Models;
using Llamero.Quants;

namespace Llamero.Benchmarks.Generation;

/// <summary>
/// <c>pp-cpu -m FILE [-p 128] [--rounds 3]</c>: where one thread's prompt-processing time goes, by that thread's CPU time
/// (so other processes on a shared machine stretch it little). Per round: the whole pass (p tokens from an empty cache),
/// then every multiplied matrix of every layer alone on p random rows (its activation quantization included), and the
/// activation quantization alone per width. Prints the best round of each: per matrix its layout, ms and GMAC/s; the
/// matrices' sum; and the rest of the pass (attention, norms, RoPE, SwiGLU, embedding, the classifier's last row).
/// </summary>
public static class PromptCpuMeasure
{
    private sealed record Item(string Name, WeightMatrix Matrix);

    public static int Run(string[] args)
    {
        var path = Arg(args, "-m") ?? throw new ArgumentException("pp-cpu needs -m FILE");
        var tokens = int.Parse(Arg(args, "-p") ?? "128", CultureInfo.InvariantCulture);
        var rounds = int.Parse(Arg(args, "--rounds") ?? "3", CultureInfo.InvariantCulture);
        MatMul.Threads = 1;
        using var model = LlamaModel.Load(path);
        var rng = new Random(7);
        var ids = Enumerable.Range(0, tokens).Select(_ => rng.Next(3, model.Config.VocabSize)).ToArray();
        using var session = model.CreateSession(tokens + 1);
        var items = new List<Item>();
        for (var l = 0; l < model.Weights.Layers.Count; l++)
        {
            var w = model.Weights.Layers[l];
            foreach (var (name, m) in new[] { ("q", w.Query), ("k", w.Key), ("v", w.Value), ("o", w.Output), ("gate", w.Gate), ("up", w.Up), ("down", w.Down) })
                items.Add(new Item($"blk.{l}.{name}", m));
        }
        var widths = items.Select(i => (i.Matrix.Cols, Partner: QuantFormats.Get(i.Matrix.Type).DotPartner)).Distinct().ToArray();
        var x = new float[tokens * items.Max(i => i.Matrix.Cols)];
        for (var i = 0; i < x.Length; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        var y = new float[tokens * items.Max(i => i.Matrix.Rows)];
        var quantized = new byte[widths.Max(wd => GgmlTypes.Get(wd.Partner).RowBytes(wd.Cols))];

        var whole = double.MaxValue;
        var best = items.Select(_ => double.MaxValue).ToArray();
        var quantBest = widths.Select(_ => double.MaxValue).ToArray();
        for (var round = -1; round < rounds; round++)
        {
            session.Truncate(0);
            var start = Llamero.Diagnostics.ThreadCpuTime.Seconds();
            session.Evaluate(ids);
            var seconds = Llamero.Diagnostics.ThreadCpuTime.Seconds() - start;
            if (round >= 0)
                whole = Math.Min(whole, seconds);
            for (var i = 0; i < items.Count; i++)
            {
                var m = items[i].Matrix;
                start = Llamero.Diagnostics.ThreadCpuTime.Seconds();
                MatMul.Multiply(in m, x.AsSpan(0, tokens * m.Cols), y.AsSpan(0, tokens * m.Rows), tokens);
                seconds = Llamero.Diagnostics.ThreadCpuTime.Seconds() - start;
                if (round >= 0)
                    best[i] = Math.Min(best[i], seconds);
            }
            for (var k = 0; k < widths.Length; k++)
            {
                var (cols, partner) = widths[k];
                var quantize = MatMul.ActivationQuantizer(partner);
                var rowBytes = (int)GgmlTypes.Get(partner).RowBytes(cols);
                start = Llamero.Diagnostics.ThreadCpuTime.Seconds();
                for (var b = 0; b < tokens; b++)
                    quantize(x.AsSpan(b * cols, cols), quantized.AsSpan(0, rowBytes));
                seconds = Llamero.Diagnostics.ThreadCpuTime.Seconds() - start;
                if (round >= 0)
                    quantBest[k] = Math.Min(quantBest[k], seconds);
            }
        }
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"{Path.GetFileName(path)}: pp{tokens}, 1 thread, {SimdPath.Current}, CPU time, best of {rounds}"));
        Console.WriteLine(string.Create(inv, $"  whole pass              {whole * 1e3,9:F1} ms  {tokens / whole,7:F2} t/s"));
        double sum = 0, macs = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var m = items[i].Matrix;
            var mac = (double)m.Rows * m.Cols * tokens;
            sum += best[i];
            macs += mac;
            Console.WriteLine(string.Create(inv,
                $"  {items[i].Name,-12} {m.Rows,6}x{m.Cols,-6} {m.Layout?.Name ?? m.Type.ToString(),-8} {best[i] * 1e3,9:F1} ms  {mac / best[i] / 1e9,6:F1} GMAC/s"));
        }
        Console.WriteLine(string.Create(inv, $"  matrices (sum)          {sum * 1e3,9:F1} ms  {macs / sum / 1e9,6:F1} GMAC/s  {sum / whole * 100,5:F1}% of the pass"));
        for (var k = 0; k < widths.Length; k++)
            Console.WriteLine(string.Create(inv, $"  quantize {widths[k].Partner} x{widths[k].Cols,-6}    {quantBest[k] * 1e3,9:F2} ms (inside the matrices' times)"));
        Console.WriteLine(string.Create(inv, $"  rest of the pass        {(whole - sum) * 1e3,9:F1} ms  {(whole - sum) / whole * 100,5:F1}%"));
        return 0;
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
