using System.Diagnostics;
using System.Globalization;
using Llamero.Kernels;
using Llamero.Models;

namespace Llamero.Benchmarks.Batching;

/// <summary>
/// <c>batch-decode -m FILE [--sequences 1,4,16] [--steps 8] [--prompt 32] [--threads N]</c>: the generation throughput
/// of S sequences advanced one token per step, each with its own forward pass (what a server without batching does)
/// against one <see cref="LlamaBatchDecoder"/> pass per step for all S. Reports tokens per second of wall time and per
/// second of process CPU time (all threads): on a shared machine the CPU figure is the one to compare, since others'
/// load stretches wall time but not the work done. Also checks both ways give bit-identical logits.
/// </summary>
public static class BatchDecodeMeasure
{
    public static int Run(string[] args)
    {
        var path = Arg(args, "-m", null) ?? throw new ArgumentException("batch-decode needs -m FILE");
        var counts = Arg(args, "--sequences", "1,4,16")!.Split(',').Select(int.Parse).ToArray();
        var steps = int.Parse(Arg(args, "--steps", "8")!, CultureInfo.InvariantCulture);
        var prompt = int.Parse(Arg(args, "--prompt", "32")!, CultureInfo.InvariantCulture);
        MatMul.Threads = int.Parse(Arg(args, "--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture))!, CultureInfo.InvariantCulture);

        using var model = LlamaModel.Load(path);
        var vocab = model.Config.VocabSize;
        WarmUp(model);
        Console.WriteLine($"{Path.GetFileName(path)}, {MatMul.Threads} thread(s), prompt {prompt}, {steps} steps");
        Console.WriteLine("| sequences | way | tokens | wall s | CPU s | tokens/s wall | tokens/s CPU |");
        Console.WriteLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var count in counts)
        {
            var rng = new Random(count);
            var prompts = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, prompt).Select(_ => rng.Next(3, vocab)).ToArray()).ToArray();
            var tokens = Enumerable.Range(0, steps).Select(_ => Enumerable.Range(0, count).Select(_ => rng.Next(3, vocab)).ToArray()).ToArray();

            // One forward pass per sequence per step.
            var alone = Prefill(model, prompts, prompt + steps);
            var last = new float[count][];
            var single = new int[1];
            var (wall, cpu) = Time(() =>
            {
                for (var s = 0; s < steps; s++)
                {
                    for (var i = 0; i < count; i++)
                    {
                        single[0] = tokens[s][i];
                        var logits = alone[i].Evaluate(single);
                        if (s == steps - 1)
                            last[i] = logits.ToArray();
                    }
                }
            });
            Row(count, "one pass per sequence", count * steps, wall, cpu);

            // One batched pass per step.
            var together = Prefill(model, prompts, prompt + steps);
            var decoder = model.CreateBatchDecoder(count, count);
            var memory = tokens.Select(step => step.Select(t => new int[] { t }.AsMemory()).ToArray()).ToArray();
            var batch = new List<SequenceTokens>(count);
            var identical = true;
            (wall, cpu) = Time(() =>
            {
                for (var s = 0; s < steps; s++)
                {
                    batch.Clear();
                    for (var i = 0; i < count; i++)
                        batch.Add(new SequenceTokens(together[i], memory[s][i]));
                    var logits = decoder.Decode(batch);
                    if (s == steps - 1)
                    {
                        for (var i = 0; i < count; i++)
                            identical &= logits.Slice(i * vocab, vocab).SequenceEqual(last[i]);
                    }
                }
            });
            Row(count, "one batched pass", count * steps, wall, cpu);
            if (!identical)
                Console.WriteLine($"WARNING: batched logits differ from the one-by-one logits at {count} sequences");
            foreach (var session in alone.Concat(together))
                session.Dispose();
        }
        return 0;
    }

    // Both ways a few times first, so the JIT has compiled the hot loops at full optimisation before any timing.
    private static void WarmUp(LlamaModel model)
    {
        var sessions = Prefill(model, [[1], [1]], 32);
        var decoder = model.CreateBatchDecoder(2, 2);
        var token = new int[] { 1 }.AsMemory();
        for (var i = 0; i < 12; i++)
        {
            sessions[0].Evaluate(token.Span);
            decoder.Decode([new(sessions[0], token), new(sessions[1], token)]);
        }
        foreach (var session in sessions)
            session.Dispose();
    }

    private static IModelSession[] Prefill(LlamaModel model, int[][] prompts, int context) =>
        prompts.Select(p =>
        {
            var session = model.CreateSession(context);
            session.Evaluate(p);
            return session;
        }).ToArray();

    private static (double Wall, double Cpu) Time(Action work)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        work();
        wall.Stop();
        process.Refresh();
        return (wall.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu0).TotalSeconds);
    }

    private static void Row(int count, string way, int tokens, double wall, double cpu) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {count} | {way} | {tokens} | {wall:F2} | {cpu:F2} | {tokens / wall:F1} | {tokens / cpu:F1} |"));

    private static string? Arg(string[] args, string name, string? fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
