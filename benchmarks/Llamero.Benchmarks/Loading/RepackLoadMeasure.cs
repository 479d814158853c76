using System.Diagnostics;
using System.Globalization;
using Llamero.Diagnostics;
using Llamero.Models;
using Llamero.Quants.Interleaved;

namespace Llamero.Benchmarks.Loading;

/// <summary>
/// <c>-- repack-load -m FILE [--layouts default|reference|none] [-t N] [--load-only]</c>: what loading costs with and without
/// repacking, in this process: wall and CPU time of <see cref="LlamaModel.Load(string, ModelLoadOptions, IProgress{double}?)"/>,
/// then of the first token (8 prompt tokens), and resident memory after loading (anonymous = the repacked copies, file =
/// mapped pages still resident) and at its peak. Run one process per setting so each peak is its own.
/// </summary>
internal static class RepackLoadMeasure
{
    public static int Run(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        var path = Get("-m", "");
        var layouts = Get("--layouts", "default");
        SpeedBench.UseThreads(int.Parse(Get("-t", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture));
        var options = layouts switch
        {
            "none" => new ModelLoadOptions { RepackWeights = false },
            "reference" => new ModelLoadOptions { LayoutFor = InterleavedLayouts.Reference },
            "default" => ModelLoadOptions.Default,
            _ => throw new ArgumentException($"--layouts is default, reference or none, got '{layouts}'"),
        };
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        using var model = LlamaModel.Load(path, options);
        var loadWall = wall.Elapsed;
        process.Refresh();
        var loadCpu = process.TotalProcessorTime - cpu0;
        var afterLoad = Status();
        if (args.Contains("--load-only"))
        {
            Console.WriteLine($"load: wall {loadWall.TotalMilliseconds:F0} ms, cpu {loadCpu.TotalMilliseconds:F0} ms, RSS {afterLoad["VmRSS"] >> 20} MiB, peak {afterLoad["VmHWM"] >> 20} MiB");
            return 0;
        }
        using (var session = model.CreateSession(64))
            _ = session.Evaluate(SideBySide.MeasureRequest.RandomTokens(model.Config.VocabSize, 8));
        var firstToken = wall.Elapsed;
        process.Refresh();
        var firstCpu = process.TotalProcessorTime - cpu0;
        var end = Status();
        var (matrices, bytes) = model.Repacked;
        var file = new FileInfo(path).Length;
        string Mb(long b) => (b / 1048576.0).ToString("F0", CultureInfo.InvariantCulture) + " MiB";
        string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) + " ms";
        Console.WriteLine($"{Path.GetFileName(path)} ({Mb(file)}), layouts {layouts}, {MatMulThreads()} threads: repacked {matrices} matrices, {Mb(bytes)}");
        Console.WriteLine($"  load:        wall {Ms(loadWall)}, cpu {Ms(loadCpu)}");
        Console.WriteLine($"  first token: wall {Ms(firstToken)}, cpu {Ms(firstCpu)} (from open)");
        Console.WriteLine($"  after load:  RSS {Mb(afterLoad["VmRSS"])} (anon {Mb(afterLoad["RssAnon"])} of which huge pages {Mb(afterLoad["AnonHugePages"])}, file {Mb(afterLoad["RssFile"])}), peak {Mb(afterLoad["VmHWM"])}");
        Console.WriteLine($"  after token: RSS {Mb(end["VmRSS"])} (anon {Mb(end["RssAnon"])}, file {Mb(end["RssFile"])}), peak {Mb(end["VmHWM"])}");
        return 0;
    }

    private static int MatMulThreads() => Kernels.MatMul.Threads;

    // VmRSS, RssAnon, RssFile, VmHWM from /proc/self/status and AnonHugePages from smaps_rollup, in bytes.
    private static Dictionary<string, long> Status()
    {
        var values = new Dictionary<string, long>();
        foreach (var line in File.ReadLines("/proc/self/status").Concat(File.ReadLines("/proc/self/smaps_rollup")))
        {
            var colon = line.IndexOf(':');
            if (colon > 0 && line.EndsWith(" kB", StringComparison.Ordinal))
                values[line[..colon]] = long.Parse(line[(colon + 1)..^3].Trim(), CultureInfo.InvariantCulture) * 1024;
        }
        return values;
    }
}
