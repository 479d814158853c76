using BenchmarkDotNet.Running;
using Llamero.Benchmarks.SideBySide;

namespace Llamero.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Llamero.Benchmarks -- side-by-side [options]</c>: whole-model speed
/// beside llama.cpp (see SideBySideRunner); <c>-- bandwidth [1,2]</c>: the machine's read bandwidth;
/// <c>-- batch-decode -m FILE</c>: sequences decoded one pass each against one batched pass (BatchDecodeMeasure);
/// <c>-- interleaved [rounds]</c>: repacked layouts beside plain rows by thread CPU time (InterleavedBenchmarks);
/// <c>-- tg-cpu -m FILE</c>: one-thread generation by thread CPU time per token (TokenCpuMeasure);
/// <c>-- pp-cpu -m FILE [-p 128]</c>: one-thread prompt processing by thread CPU time, split per matrix and the rest (PromptCpuMeasure);
/// <c>-- gemv-stream [layout] [MB] [rounds] [cols]</c>: one thread's Gemv over a model-sized region beside a plain read of it (GemvStreamMeasure);
/// <c>-- model-stream -m FILE</c>: a loaded model's matrices streamed per shape, from its own copy and from a fresh one (ModelStreamMeasure);
/// <c>-- gemm-kernel [--type Q4_K] [--cols N] [--count 16]</c>: one layout's Gemm kernel alone on cache-resident data (GemmKernelMeasure);
/// <c>-- gemm-blocking</c>: one wide repacked matmul, whole rows against column ranges (GemmBlockingMeasure);
/// <c>-- repack-load -m FILE [--layouts default|reference|none]</c>: load time and resident memory with and without repacking;
/// <c>-- repack-pack FILE...</c>: each layout's packing speed; <c>-- attention</c>: one token's attention over an F32, F16, Q8_0 and Q4_0 KV cache (AttentionMeasure, --types); anything else runs the BenchmarkDotNet suites (<c>-- --filter '*'</c>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "side-by-side")
            return SideBySideRunner.Run(args[1..]);
        if (args.Length > 0 && args[0] == "bandwidth")
        {
            foreach (var threads in args.Length > 1 ? args[1].Split(',').Select(int.Parse) : [1, Environment.ProcessorCount])
                Console.WriteLine($"read bandwidth, {threads} thread(s): {ReadBandwidth.Measure(threads):F1} GB/s");
            return 0;
        }
        if (args.Length > 0 && args[0] == "grammar")
            return Grammar.GrammarMaskMeasure.Run(args);
        if (args.Length > 0 && args[0] == "batch-decode")
            return Batching.BatchDecodeMeasure.Run(args[1..]);
        if (args.Length > 0 && args[0] == "interleaved")
            return Quants.InterleavedBenchmarks.Measure(args[1..]);
        if (args.Length > 0 && args[0] == "tg-cpu")
            return Generation.TokenCpuMeasure.Run(args[1..]);
        if (args.Length > 0 && args[0] == "pp-cpu")
            return Generation.PromptCpuMeasure.Run(args[1..]);
        if (args.Length > 0 && args[0] == "model-stream")
            return Generation.ModelStreamMeasure.Run(args[1..]);
        if (args.Length > 0 && args[0] == "gemv-stream")
            return Quants.GemvStreamMeasure.Run(args[1..]);
        if (args.Length > 0 && args[0] == "gemm-kernel")
            return Quants.GemmKernelMeasure.Run(args[1..]);
        if (args.Length > 0 && args[0] == "gemm-blocking")
            return Quants.GemmBlockingMeasure.Run(args[1..]);
        if (args.Length > 0 && args[0] == "repack-pack")
            return Loading.PackThroughputMeasure.Run(args[1..]);
        if (args.Length > 1 && args[0] == "load-phases")
            return Loading.LoadPhasesMeasure.Run(args[1]);
        if (args.Length > 0 && args[0] == "repack-load")
            return Loading.RepackLoadMeasure.Run(args[1..]);
        if (args.Length > 0 && args[0] == "attention")
            return Attention.AttentionMeasure.Run(args[1..]);
        if (args.Length > 0 && args[0] == "measure")
            return SideBySideRunner.Measure(args);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
