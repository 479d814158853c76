using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Llamero.Cli.Inference;
using Llamero.Diagnostics;
using Llamero.Gguf;
using Llamero.Models;

namespace Llamero.Cli.Commands;

/// <summary>
/// <c>llamero bench -m FILE -p 128,512 -n 128 -t 2 -r 3 [-d 4096] [-ctk f16 -ctv f16]</c>: prompt-processing and
/// generation speed in llama-bench's table (model, size, params, backend, threads, test, t/s ± sd); <c>-d</c> runs each
/// test after that many tokens already in the KV cache.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "GGUF model (default: the embedded stories260K)." };
        var prompts = new Option<string>("--n-prompt", "-p") { Description = "Prompt lengths to test, comma separated (0: none).", DefaultValueFactory = _ => "512" };
        var generations = new Option<string>("--n-gen", "-n") { Description = "Generation lengths to test, comma separated (0: none).", DefaultValueFactory = _ => "128" };
        var threads = new Option<string>("--threads", "-t") { Description = "Thread counts to test, comma separated.", DefaultValueFactory = _ => Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) };
        var repetitions = new Option<int>("--repetitions", "-r") { Description = "Measured repetitions of each test (after one warm-up).", DefaultValueFactory = _ => 5 };
        var depths = new Option<string>("--n-depth", "-d") { Description = "Tokens already in the KV cache before each test, comma separated (llama-bench's -d).", DefaultValueFactory = _ => "0" };
        var repack = new RepackArgument();
        var cacheTypes = new CacheTypeArguments();
        var command = new Command("bench", "Measure prompt processing (pp) and generation (tg) speed, as llama-bench does.")
        {
            model, prompts, generations, threads, repetitions, depths, repack.NoRepack, cacheTypes.Keys, cacheTypes.Values,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            return CommandErrors.Run(parseResult.InvocationConfiguration.Error, () =>
            {
                var reps = parseResult.GetValue(repetitions);
                if (reps < 1)
                    throw new ArgumentException("--repetitions must be at least 1");
                var pp = ParseList(parseResult.GetValue(prompts)!, "--n-prompt");
                var tg = ParseList(parseResult.GetValue(generations)!, "--n-gen");
                var threadCounts = ParseList(parseResult.GetValue(threads)!, "--threads");
                var depthList = ParseList(parseResult.GetValue(depths)!, "--n-depth");
                var caches = cacheTypes.Read(parseResult);
                if (threadCounts.Any(t => t < 1))
                    throw new ArgumentException("--threads values must be at least 1");
                var path = DefaultModel.Resolve(parseResult.GetValue(model));
                var load = repack.Read(parseResult);
                var started = Stopwatch.GetTimestamp();
                using var llm = LlamaModel.Load(path, load);
                caches.CheckHeadSize(llm.Config.HeadSize);
                // On stderr, so stdout stays llama-bench's table.
                var error = parseResult.InvocationConfiguration.Error;
                error.WriteLine($"load: {path} in {Stopwatch.GetElapsedTime(started).TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)} ms");
                error.WriteLine(RepackArgument.Describe(llm, load));
                error.WriteLine($"KV cache: K {Name(caches.Keys)}, V {Name(caches.Values)}");
                Run(llm, path, new BenchTests(pp, tg, depthList, caches), threadCounts, reps, output);
                return 0;
            });
        });
        return command;
    }

    // What each thread count runs: prompt and generation lengths, each after every depth, over caches of these types.
    private sealed record BenchTests(int[] Prompts, int[] Generations, int[] Depths, KvCacheOptions Caches);

    private static string Name(KvCacheType type) => type.ToString().ToLowerInvariant();

    private static void Run(LlamaModel llm, string path, BenchTests tests, int[] threadCounts, int reps, TextWriter o)
    {
        var summary = GgufModelSummary.Of(llm.File);
        var name = $"{llm.File.GetOrDefault(GgufKeys.General.Architecture, "?")} {Path.GetFileNameWithoutExtension(path)}";
        var size = InfoCommand.Bytes(summary.WeightBytes);
        var parameters = summary.ParameterCount >= 1_000_000_000
            ? (summary.ParameterCount / 1e9).ToString("F2", CultureInfo.InvariantCulture) + " B"
            : (summary.ParameterCount / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " M";
        o.WriteLine("| model | size | params | backend | threads | test | t/s |");
        o.WriteLine("| --- | ---: | ---: | --- | ---: | ---: | ---: |");
        foreach (var t in threadCounts)
        {
            SpeedBench.UseThreads(t);
            var results = tests.Depths.SelectMany(d =>
                tests.Prompts.Where(n => n > 0).Select(n => SpeedBench.PromptProcessing(llm, n, reps, cacheTypes: tests.Caches, depth: d))
                    .Concat(tests.Generations.Where(n => n > 0).Select(n => SpeedBench.Generation(llm, n, reps, cacheTypes: tests.Caches, depth: d))));
            foreach (var r in results)
            {
                var tps = $"{r.Mean.ToString("F2", CultureInfo.InvariantCulture)} ± {r.StandardDeviation.ToString("F2", CultureInfo.InvariantCulture)}";
                o.WriteLine($"| {name} | {size} | {parameters} | CPU | {t} | {r.Test} | {tps} |");
                o.Flush();
            }
        }
    }

    private static int[] ParseList(string text, string option)
    {
        try
        {
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{option} expects comma-separated non-negative integers, got '{text}'");
        }
    }
}
