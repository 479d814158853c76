using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Llamero.Benchmarks.SideBySide;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Llamero.Benchmarks -- side-by-side [options]</c>: the same GGUF in
/// Llamero and in llama.cpp, same threads, each measurement in its own child process (so peak memory is the engine's
/// own), engines alternating round by round. Prints a markdown table with the ratio Llamero/llama.cpp and, for
/// generation, the share of the machine's measured read bandwidth the engine reaches.
/// Options: --shapes tinyllama-1.1b,llama2-7b,synthia70b-2layers  --mixes Q4_K_M,Q8_0,...  --threads 1,2
/// --pp 128,512  --tg 128  --reps 3  --rounds 2  --models-dir DIR  --vocab FILE  --out FILE.md  --prepare-only (write the models, measure nothing)
/// --no-repack (Llamero multiplies the file's layout instead of repacking at load, as llama.cpp's -nr; the table says so)
/// --ctx N (both engines get a context of at least N positions, F16 KV caches, so peak memory compares like with like)
/// --depth D (each test runs after D tokens already in the cache, as llama-bench's -d: generation at long context)
/// </summary>
internal static class SideBySideRunner
{
    public static int Run(string[] args)
    {
        var o = Options.Parse(args);
        var table = new StringBuilder();
        var llameroName = o.Repack ? "Llamero" : "Llamero --no-repack";
        table.AppendLine($"| shape | mix | size | threads | test | {llameroName} | llama.cpp | ratio | {llameroName} % of bandwidth | llama.cpp % of bandwidth |");
        table.AppendLine("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
        Console.WriteLine(table.ToString().TrimEnd());
        var bandwidth = new Dictionary<int, double>();
        foreach (var shapeName in o.Shapes)
        foreach (var mix in o.Mixes)
        {
            var shape = ModelShape.Get(shapeName);
            var file = SyntheticModelFiles.Get(shape, mix, o.ModelsDir, o.Vocab);
            var bytes = new FileInfo(file).Length;
            if (o.PrepareOnly)
                continue;
            foreach (var threads in o.Threads)
            {
                if (!bandwidth.TryGetValue(threads, out var gbs))
                    bandwidth[threads] = gbs = ReadBandwidth.Measure(threads);
                var request = new MeasureRequest("", file, threads, o.Prompt, o.Generate, o.Repetitions, o.Repack, o.Context, o.Depth);
                var llamero = new List<Measurement>();
                var llamaCpp = new List<Measurement>();
                // Both engines open the file from the page cache: without this the first one measured pays the disk
                // (a 7B file that was not read lately), and who goes first alternates round by round.
                WarmPageCache(file);
                for (var round = 0; round < o.Rounds; round++)
                {
                    if (round % 2 == 0)
                    {
                        llamero.Add(Child(request with { Engine = "llamero" }));
                        llamaCpp.Add(Child(request with { Engine = "llama.cpp" }));
                    }
                    else
                    {
                        llamaCpp.Add(Child(request with { Engine = "llama.cpp" }));
                        llamero.Add(Child(request with { Engine = "llamero" }));
                    }
                }
                var rows = new StringBuilder();
                foreach (var test in llamero[0].TokensPerSecond.Keys)
                {
                    var a = LlameroMeasure.Median(llamero.Select(m => m.TokensPerSecond[test]));
                    var b = LlameroMeasure.Median(llamaCpp.Select(m => m.TokensPerSecond[test]));
                    var share = (double tps) => test.StartsWith("tg", StringComparison.Ordinal) ? Pct(bytes * tps / 1e9 / gbs) : "";
                    rows.AppendLine($"| {shape.Name} | {mix} | {Gb(bytes)} | {threads} | {test} | {F(a)} | {F(b)} | {F(a / b)}x | {share(a)} | {share(b)} |");
                }
                var rssA = llamero.Max(m => m.PeakRssBytes);
                var rssB = llamaCpp.Max(m => m.PeakRssBytes);
                rows.AppendLine($"| {shape.Name} | {mix} | {Gb(bytes)} | {threads} | peak RSS (GB) | {Gb(rssA)} | {Gb(rssB)} | {F((double)rssA / rssB)}x | | |");
                var ftA = LlameroMeasure.Median(llamero.Select(m => m.OpenToFirstTokenSeconds));
                var ftB = LlameroMeasure.Median(llamaCpp.Select(m => m.OpenToFirstTokenSeconds));
                rows.AppendLine($"| {shape.Name} | {mix} | {Gb(bytes)} | {threads} | open to first token (s) | {F(ftA)} | {F(ftB)} | {F(ftA / ftB)}x | | |");
                Console.Write(rows);
                table.Append(rows);
            }
        }
        foreach (var (threads, gbs) in bandwidth)
            table.AppendLine().Append(CultureInfo.InvariantCulture, $"Read bandwidth measured with {threads} thread(s): {F(gbs)} GB/s.");
        if (o.Out is { } outFile)
            File.WriteAllText(outFile, table.ToString());
        return 0;
    }

    /// <summary>Runs one engine's measurement in a fresh process of this program and reads its JSON line.</summary>
    private static Measurement Child(MeasureRequest r)
    {
        var self = Environment.ProcessPath!;
        var dll = typeof(SideBySideRunner).Assembly.Location;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(dll);
        foreach (var a in new[] { "measure", r.Engine, r.Model, r.Threads.ToString(CultureInfo.InvariantCulture),
                     string.Join(',', r.Prompt), string.Join(',', r.Generate), r.Repetitions.ToString(CultureInfo.InvariantCulture), r.Repack ? "repack" : "no-repack",
                     r.Context.ToString(CultureInfo.InvariantCulture), r.Depth.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{r.Engine} measurement failed (exit {p.ExitCode})");
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{'));
        return Measurement.FromJson(line);
    }

    /// <summary>The child side: <c>measure ENGINE MODEL THREADS PP,.. TG,.. REPS [repack|no-repack [CTX DEPTH]]</c>, one JSON line on stdout.</summary>
    public static int Measure(string[] args)
    {
        int[] List(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        var r = new MeasureRequest(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), List(args[4]), List(args[5]), int.Parse(args[6], CultureInfo.InvariantCulture),
            Repack: args.Length <= 7 || args[7] != "no-repack",
            Context: args.Length > 8 ? int.Parse(args[8], CultureInfo.InvariantCulture) : 0,
            Depth: args.Length > 9 ? int.Parse(args[9], CultureInfo.InvariantCulture) : 0);
        var m = r.Engine == "llamero" ? LlameroMeasure.Run(r) : LlamaCppMeasure.Run(r);
        Console.WriteLine(m.ToJson());
        return 0;
    }

    private static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
    private static string Pct(double v) => (v * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";
    private static string Gb(long bytes) => (bytes / 1e9).ToString("F2", CultureInfo.InvariantCulture);

    private sealed record Options(string[] Shapes, string[] Mixes, int[] Threads, int[] Prompt, int[] Generate, int Repetitions, int Rounds, string ModelsDir, string Vocab, string? Out, bool PrepareOnly, bool Repack,
        int Context, int Depth)
    {
        public static Options Parse(string[] args)
        {
            string Get(string name, string fallback)
            {
                var i = Array.IndexOf(args, name);
                return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
            }
            // "0" means none (--pp 0: generation only), as in llama-bench.
            int[] Ints(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(x => int.Parse(x, CultureInfo.InvariantCulture)).Where(n => n > 0).ToArray();
            var repo = FindRepoRoot();
            return new Options(
                Get("--shapes", "tinyllama-1.1b").Split(','),
                Get("--mixes", "Q4_K_M").Split(','),
                Ints(Get("--threads", "2")),
                Ints(Get("--pp", "128,512")),
                Ints(Get("--tg", "128")),
                int.Parse(Get("--reps", "3"), CultureInfo.InvariantCulture),
                int.Parse(Get("--rounds", "2"), CultureInfo.InvariantCulture),
                Get("--models-dir", Path.Combine(Path.GetTempPath(), "llamero-bench-models")),
                Get("--vocab", Path.Combine(repo, "..", "shared", "models", "llama-cpp-vocab", "ggml-vocab-llama-spm.gguf")),
                args.Contains("--out") ? Get("--out", "") : null,
                args.Contains("--prepare-only"),
                !args.Contains("--no-repack"),
                int.Parse(Get("--ctx", "0"), CultureInfo.InvariantCulture),
                int.Parse(Get("--depth", "0"), CultureInfo.InvariantCulture));
        }

        private static string FindRepoRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Llamero.slnx")))
                    return dir.FullName;
            }
            return Environment.CurrentDirectory;
        }
    }

    // Reads the whole file once so the OS has it cached before either engine opens it.
    private static void WarmPageCache(string path)
    {
        var buffer = new byte[1 << 20];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        while (stream.Read(buffer, 0, buffer.Length) > 0)
        {
        }
    }
}
