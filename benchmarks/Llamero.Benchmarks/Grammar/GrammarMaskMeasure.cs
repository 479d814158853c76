using System.Diagnostics;
using System.Globalization;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using Llamero.Gguf;
using Llamero.Sampling;
using Llamero.Sampling.Grammars;
using Llamero.Tokenization;

namespace Llamero.Benchmarks.Grammar;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Llamero.Benchmarks -- grammar [VOCAB.gguf] [REPEATS]</c>: the cost of
/// grammar masking per generated token on a real vocabulary (default: the Llama-2 one, 32000 tokens), walking a JSON
/// document under the JSON grammar the way a model writing it would (longest allowed token each step). Prints, per
/// token: Llamero's whole-vocabulary mask (the fallback when the sampled token is refused), Llamero's one-token check
/// (the usual path: the pick is allowed), and llama.cpp's grammar sampler applied to the same 32000 candidates.
/// Times are process CPU time divided by steps (single-threaded work), and wall time.
/// </summary>
internal static class GrammarMaskMeasure
{
    private const string Document = """
        {"title": "Grammar-constrained sampling", "year": 2026, "ok": true, "ratio": -0.125e2,
         "tags": ["json", "gbnf", "llama.cpp", "naïve ☃"], "nested": {"a": [1, 2, {"b": null}], "c": "line\nbreak \u00e9"},
         "text": "Once upon a time, there was a little girl named Lily who loved to play outside in the park."}
        """;

    public static int Run(string[] args)
    {
        var vocabPath = args.Length > 1 ? args[1] : DefaultVocab();
        var repeats = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        Tokenizer tokenizer;
        using (var file = GgufFile.Open(vocabPath))
            tokenizer = Tokenizer.FromGguf(file);
        var grammar = Sampling.Grammars.Grammar.JsonObject;
        var n = tokenizer.VocabSize;

        // The token path: at each step the longest allowed token that spells the next text.
        var path = new List<int>();
        var walker = new GrammarSampler(grammar, tokenizer);
        var remaining = Encoding.UTF8.GetBytes(Document.ReplaceLineEndings("\n"));
        var candidates = new TokenCandidates();
        var zeros = new float[n];
        while (remaining.Length > 0)
        {
            candidates.Load(zeros);
            walker.Apply(candidates);
            var next = candidates.Items.ToArray().Select(c => c.Id)
                .Where(id => !tokenizer.IsEndOfGeneration(id) && remaining.AsSpan().StartsWith(tokenizer.Piece(id)))
                .MaxBy(id => tokenizer.Piece(id).Length);
            walker.Accept(next);
            path.Add(next);
            remaining = remaining[tokenizer.Piece(next).Length..];
        }
        Console.WriteLine($"vocabulary {Path.GetFileName(vocabPath)}: {n} tokens; JSON document of {path.Count} tokens; {repeats} repeats");

        var full = Time(repeats, path.Count, () =>
        {
            var sampler = new GrammarSampler(grammar, tokenizer);
            foreach (var id in path)
            {
                candidates.Load(zeros);
                sampler.Apply(candidates);
                sampler.Accept(id);
            }
        });
        var single = Time(repeats, path.Count, () =>
        {
            var sampler = new GrammarSampler(grammar, tokenizer);
            foreach (var id in path)
            {
                if (!sampler.IsAllowed(id))
                    throw new InvalidOperationException("path token refused");
                sampler.Accept(id);
            }
        });
        var native = NativeTime(vocabPath, grammar.Source, path, repeats, n);
        Console.WriteLine("| per generated token | CPU ms | wall ms |");
        Console.WriteLine("| --- | --- | --- |");
        Console.WriteLine($"| Llamero whole-vocabulary mask ({n} candidates) | {full.Cpu:F3} | {full.Wall:F3} |");
        Console.WriteLine($"| Llamero check of the sampled token (+ accept) | {single.Cpu:F4} | {single.Wall:F4} |");
        Console.WriteLine($"| llama.cpp grammar sampler on {n} candidates | {native.Cpu:F3} | {native.Wall:F3} |");
        return 0;
    }

    private static (double Cpu, double Wall) NativeTime(string vocabPath, string gbnf, List<int> path, int repeats, int n)
    {
        NativeApi.llama_empty_call();
        NativeLogConfig.llama_log_set((_, _) => { });
        using var weights = LLamaWeights.LoadFromFile(new ModelParams(vocabPath) { VocabOnly = true });
        var data = new LLamaTokenData[n];
        return Time(repeats, path.Count, () =>
        {
            using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
            chain.AddGrammar(weights.Vocab, gbnf, "root");
            foreach (var id in path)
            {
                for (var i = 0; i < n; i++)
                    data[i] = new LLamaTokenData(i, 0f, 0f);
                using (LLamaTokenDataArrayNative.Create(new LLamaTokenDataArray(data), out var array))
                    chain.Apply(ref array);
                chain.Accept(id);
            }
        });
    }

    // One warm-up, then the median over the repeats of CPU and wall time per step, in milliseconds.
    private static (double Cpu, double Wall) Time(int repeats, int steps, Action run)
    {
        run();
        var cpu = new List<double>();
        var wall = new List<double>();
        var process = Process.GetCurrentProcess();
        for (var r = 0; r < repeats; r++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            run();
            wall.Add(watch.Elapsed.TotalMilliseconds / steps);
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - cpu0).TotalMilliseconds / steps);
        }
        return (Median(cpu), Median(wall));
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static string DefaultVocab()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Llamero.slnx")))
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "models", "llama-cpp-vocab", "ggml-vocab-llama-spm.gguf"));
        }
        throw new InvalidOperationException("Give the vocabulary file: grammar VOCAB.gguf [REPEATS]");
    }
}
