using System.Diagnostics;
using System.Globalization;
using Llamero.Kernels;
using Llamero.Models;

namespace Llamero.Benchmarks.Generation;

/// <summary>
/// <c>tg-cpu -m FILE [-n 64] [--rounds 5]</c>: token generation on ONE thread (the calling one does all the work), timed
/// by that thread's CPU time, so that other processes on a shared machine stretch it little: per round, n tokens one
/// at a time from an empty cache. Prints each round and the median and best CPU time per token, and the weight bytes
/// each token reads (every tensor but the embedding table) over that time: the rate the forward pass streams weights
/// at, to hold against <c>-- bandwidth 1</c>. Run two builds' copies alternately for an A/B.
/// </summary>
public static class TokenCpuMeasure
{
    public static int Run(string[] args)
    {
        var path = Arg(args, "-m") ?? throw new ArgumentException("tg-cpu needs -m FILE");
        var tokens = int.Parse(Arg(args, "-n") ?? "64", CultureInfo.InvariantCulture);
        var rounds = int.Parse(Arg(args, "--rounds") ?? "5", CultureInfo.InvariantCulture);
        MatMul.Threads = 1;
        using var model = LlamaModel.Load(path);
        var weightBytes = model.File.Tensors.Where(t => t.Name != "token_embd.weight").Sum(t => t.ByteSize);
        var rng = new Random(7);
        var ids = Enumerable.Range(0, tokens).Select(_ => rng.Next(3, model.Config.VocabSize)).ToArray();
        using var session = model.CreateSession(tokens + 1);
        var cpu = new List<double>();
        for (var round = -1; round < rounds; round++)
        {
            session.Truncate(0);
            var wall = Stopwatch.StartNew();
            var start = Llamero.Diagnostics.ThreadCpuTime.Seconds();
            for (var i = 0; i < ids.Length; i++)
                session.Evaluate(ids.AsSpan(i, 1));
            var seconds = (Llamero.Diagnostics.ThreadCpuTime.Seconds() - start) / tokens;
            if (round < 0)
                continue; // warm-up: JIT tiers, page faults
            cpu.Add(seconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: {seconds * 1e3:F2} ms CPU/token ({wall.Elapsed.TotalSeconds / tokens * 1e3:F2} ms wall), {weightBytes / seconds / 1e9:F1} GB/s"));
        }
        var sorted = cpu.Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(path)}: tg{tokens}, 1 thread, CPU per token median {sorted[sorted.Length / 2] * 1e3:F2} ms, best {sorted[0] * 1e3:F2} ms; " +
            $"weights {weightBytes / 1e6:F0} MB per token: {weightBytes / sorted[sorted.Length / 2] / 1e9:F1} GB/s median, {weightBytes / sorted[0] / 1e9:F1} best"));
        return 0;
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
