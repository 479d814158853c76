using System.CommandLine;
using System.Globalization;
using Llamero.Evaluation;
using Llamero.Gguf;
using Llamero.Hub;
using Llamero.Models;

namespace Llamero.Cli.Commands;

/// <summary><c>llamero perplexity -m MODEL -f TEXT [-c 512] [-b N] [--kl-divergence-base FILE [--kl-divergence]]</c>.</summary>
internal static class PerplexityCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model (path or hf:OWNER/NAME/FILE)", Required = true };
        var file = new Option<string?>("--file", "-f") { Description = "Text to evaluate (not needed with --kl-divergence)" };
        var context = new Option<int>("--ctx-size", "-c") { Description = "Tokens per chunk; the second half of each is scored", DefaultValueFactory = _ => 512 };
        var batch = new Option<int>("--batch-size", "-b") { Description = "Tokens per evaluation call", DefaultValueFactory = _ => 2048 };
        var chunks = new Option<int>("--chunks") { Description = "Evaluate at most this many chunks (default: all)", DefaultValueFactory = _ => -1 };
        var klBase = new Option<string?>("--kl-divergence-base") { Description = "Logits file (llama.cpp's format): written by a plain run, read by --kl-divergence" };
        var kl = new Option<bool>("--kl-divergence") { Description = "Compare this model with the logits saved in --kl-divergence-base (KLD, top-1 agreement, PPL ratio)" };

        var cacheTypes = new Inference.CacheTypeArguments();
        var repack = new Inference.RepackArgument();
        var command = new Command("perplexity", "Perplexity of a text as llama-perplexity computes it, or KL divergence against a base model's saved logits.")
        {
            model, file, context, batch, chunks, klBase, kl, cacheTypes.Keys, cacheTypes.Values, repack.NoRepack,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var basePath = parseResult.GetValue(klBase);
            var textPath = parseResult.GetValue(file);
            try
            {
                var caches = cacheTypes.Read(parseResult);
                if (parseResult.GetValue(kl))
                {
                    if (basePath is null)
                        throw new EvaluationException("--kl-divergence needs --kl-divergence-base FILE (the base model's saved logits)");
                    using var reader = new LogitsFileReader(basePath);
                    using var evalModel = EvaluationModel.Open(parseResult.GetValue(model)!, load: repack.Read(parseResult));
                    return CompareKl(evalModel, reader, parseResult.GetValue(batch), caches, output, error);
                }
                if (textPath is null)
                    throw new EvaluationException("give the text to evaluate with -f FILE");
                var text = File.ReadAllText(textPath);
                using var opened = EvaluationModel.Open(parseResult.GetValue(model)!, load: repack.Read(parseResult));
                var options = new PerplexityOptions(parseResult.GetValue(context), parseResult.GetValue(batch),
                    parseResult.GetValue(chunks) is var n and > 0 ? n : null);
                return ComputePerplexity(opened, opened.Tokenize(text), options, caches, basePath, output, error);
            }
            catch (Exception e) when (e is EvaluationException or GgufFormatException or HubException or IOException or InvalidDataException or ArgumentException)
            {
                error.WriteLine("error: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static int ComputePerplexity(EvaluationModel model, int[] tokens, PerplexityOptions options, KvCacheOptions caches, string? savePath,
        TextWriter output, TextWriter error)
    {
        using var session = model.Model.CreateSession(options.ContextSize, caches);
        Perplexity.Validate(session, tokens.Length, options);   // before any output file exists
        var chunkCount = Math.Min(tokens.Length / options.ContextSize, options.MaxChunks ?? int.MaxValue);
        error.WriteLine($"perplexity: {tokens.Length} tokens, calculating perplexity over {chunkCount} chunks, n_ctx={options.ContextSize}, batch_size={options.BatchSize}");
        using var writer = savePath is null ? null : new LogitsFileWriter(savePath);
        var result = Perplexity.Compute(session, tokens, model.BosId, options, (chunk, estimate) =>
        {
            output.Write(string.Create(CultureInfo.InvariantCulture, $"[{chunk}]{estimate:F4},"));
            output.Flush();
        }, writer);
        writer?.Commit();
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Final estimate: PPL = {result.Value:F4} +/- {result.Uncertainty:F5}"));
        if (savePath is not null)
            error.WriteLine($"perplexity: saved the logits of {result.Tokens} tokens to {savePath}");
        return 0;
    }

    private static int CompareKl(EvaluationModel model, LogitsFileReader reader, int batchSize, KvCacheOptions caches, TextWriter output, TextWriter error)
    {
        using var session = model.Model.CreateSession(reader.ContextSize, caches);
        error.WriteLine($"kl-divergence: {reader.Chunks} chunks of {reader.ContextSize} tokens from {reader.Path}");
        output.WriteLine(KlDivergenceReport.Header);
        var stats = KlDivergence.Compute(session, reader, model.BosId, batchSize, (chunk, s) =>
        {
            output.WriteLine(KlDivergenceReport.ChunkLine(chunk, s));
            output.Flush();
        });
        output.WriteLine();
        foreach (var line in KlDivergenceReport.Summary(stats))
            output.WriteLine(line);
        return 0;
    }
}
