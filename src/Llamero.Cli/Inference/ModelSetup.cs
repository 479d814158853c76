using System.CommandLine;
using Llamero.Generation;

namespace Llamero.Cli.Inference;

/// <summary>Loads the model a <c>run</c>/<c>chat</c> command line names and prints llama.cpp-style notes on stderr.</summary>
internal static class ModelSetup
{
    public static Llm Load(ParseResult result, GenerationArguments args)
    {
        var error = result.InvocationConfiguration.Error;
        var path = DefaultModel.Resolve(result.GetValue(args.Model));
        if (result.GetResult(args.GpuLayers) is not null)
            error.WriteLine($"note: -ngl {result.GetValue(args.GpuLayers)}: Llamero has no GPU backend yet, every layer stays on the CPU");
        if (result.GetValue(args.Threads) is var threads && threads < 0)
            throw new ArgumentException($"threads must be positive, got {threads}");
        else if (threads > 0)
            Llamero.Kernels.MatMul.Threads = threads;
        var load = args.Repack.Read(result);
        var llm = Llm.Load(path, new LlmOptions
        {
            RepackWeights = load.RepackWeights,
            ContextSize = result.GetValue(args.Context),
            ChatTemplate = result.GetValue(args.ChatTemplate),
            CacheTypes = args.CacheTypes.Read(result),
            Progress = LoadProgressBar.For(path, error),
        });
        var config = llm.Model.Config;
        error.WriteLine($"model: {path} ({config.Architecture}, {config.BlockCount} layers, dim {config.EmbeddingLength}, vocab {config.VocabSize}), loaded in {llm.LoadTime.TotalMilliseconds:F0} ms");
        error.WriteLine(RepackArgument.Describe(llm.Model, load));
        var caches = llm.CacheTypes;
        var perPosition = caches.BytesPerPosition(config.BlockCount, config.KvLength, config.KvLength);
        error.WriteLine($"KV cache: {llm.ContextSize} positions, K {Models.KvCacheOptions.Name(caches.Keys)}, V {Models.KvCacheOptions.Name(caches.Values)}, " +
            $"{perPosition * llm.ContextSize / 1048576.0:F2} MiB ({perPosition / 1024.0:F1} KiB per token)");
        return llm;
    }

    /// <summary>Fixes a random seed up front so it can be printed (and the run repeated with --seed).</summary>
    public static GenerationOptions WithSeed(GenerationOptions options, TextWriter error)
    {
        var seed = options.Sampling.Seed ?? (uint)Random.Shared.NextInt64(0, uint.MaxValue);
        error.WriteLine($"sampler seed: {seed}");
        return options with { Sampling = options.Sampling with { Seed = seed } };
    }

    public static void PrintSettings(Llm llm, GenerationOptions options, TextWriter error)
    {
        var s = options.Sampling;
        error.WriteLine($"sampler params: repeat_last_n = {s.RepeatLastN}, repeat_penalty = {s.RepeatPenalty:F3}, frequency_penalty = {s.FrequencyPenalty:F3}, presence_penalty = {s.PresencePenalty:F3}, "
                        + $"top_k = {s.TopK}, top_p = {s.TopP:F3}, min_p = {s.MinP:F3}, typical_p = {s.TypicalP:F3}, temp = {s.Temperature:F3}, mirostat = {s.Mirostat}, mirostat_lr = {s.MirostatEta:F3}, mirostat_ent = {s.MirostatTau:F3}");
        error.WriteLine($"sampler chain: {Sampling.SamplerChain.Create(s, llm.Tokenizer.VocabSize, llm.ContextSize, llm.Tokenizer)}");
        error.WriteLine($"generate: n_ctx = {llm.ContextSize}, n_batch = {options.BatchSize}, n_predict = {options.MaxTokens}, n_keep = {options.Keep}, context shift = {(options.ContextShift ? "on" : "off")}, chat template = {llm.ChatTemplate.Name}");
        error.WriteLine();
    }
}
