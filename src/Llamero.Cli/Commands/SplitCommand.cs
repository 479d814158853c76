using System.CommandLine;
using System.Globalization;
using Llamero.Gguf;

namespace Llamero.Cli.Commands;

/// <summary><c>llamero split (--split-max-size 2G | --split-max-tensors N) INPUT OUTPUT_PREFIX</c>: llama.cpp gguf-split shards.</summary>
internal static class SplitCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "The GGUF file to split." };
        var prefix = new Argument<string>("output-prefix") { Description = "Shards are written as PREFIX-00001-of-0000N.gguf." };
        var maxSize = new Option<string?>("--split-max-size") { Description = "Most tensor bytes per shard: a number with an optional K, M or G suffix (decimal, as gguf-split: 2G = 2,000,000,000)." };
        var maxTensors = new Option<int?>("--split-max-tensors") { Description = "Most tensors per shard." };
        var command = new Command("split", "Split a GGUF into llama.cpp gguf-split shards (the first shard holds the metadata; llama.cpp loads them given the first).")
        {
            input, prefix, maxSize, maxTensors,
        };
        command.SetAction(parseResult =>
        {
            var o = parseResult.InvocationConfiguration.Output;
            return GgufCommandErrors.Run(parseResult.InvocationConfiguration.Error, () =>
            {
                var sizeText = parseResult.GetValue(maxSize);
                var tensors = parseResult.GetValue(maxTensors);
                if (sizeText is null == tensors is null)
                    throw new ArgumentException("Give exactly one of --split-max-size or --split-max-tensors.");
                var shards = GgufShards.Split(parseResult.GetValue(input)!, parseResult.GetValue(prefix)!,
                    sizeText is null ? null : ParseSize(sizeText), tensors);
                foreach (var shard in shards)
                    o.WriteLine($"wrote {shard} ({new FileInfo(shard).Length} bytes)");
                return 0;
            });
        });
        return command;
    }

    /// <summary>"2G", "500M", "64K" or plain bytes; decimal units as llama-gguf-split uses them.</summary>
    internal static long ParseSize(string text)
    {
        var t = text.Trim();
        long unit = 1;
        if (t.Length > 0 && char.ToUpperInvariant(t[^1]) is 'K' or 'M' or 'G')
        {
            unit = char.ToUpperInvariant(t[^1]) switch { 'K' => 1000L, 'M' => 1000_000L, _ => 1000_000_000L };
            t = t[..^1];
        }
        if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > long.MaxValue / unit)
            throw new ArgumentException($"--split-max-size: \"{text}\" is not a size like 2G, 500M or 1000000.");
        return n * unit;
    }
}
