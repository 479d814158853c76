using System.CommandLine;
using System.Globalization;
using Llamero.Gguf;

namespace Llamero.Cli.Commands;

/// <summary><c>llamero info FILE [-c CTX]</c>: what a GGUF file holds and what it takes to run.</summary>
internal static class InfoCommand
{
    private const int ArrayPreview = 8;
    private const int StringPreview = 120;

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "GGUF file, byte-split part, or first gguf-split shard." };
        var context = new Option<long?>("--ctx-size", "-c") { Description = "Context length for the memory estimate (default: the model's)." };
        var noTensors = new Option<bool>("--no-tensors") { Description = "Leave out the tensor table." };
        var command = new Command("info", "Show a GGUF file's version, metadata, tensors, size and the memory it needs to run.")
        {
            file, context, noTensors,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            return GgufCommandErrors.Run(parseResult.InvocationConfiguration.Error, () =>
            {
                using var gguf = GgufFile.Open(parseResult.GetValue(file)!);
                Print(gguf, parseResult.GetValue(context), !parseResult.GetValue(noTensors), output);
                return 0;
            });
        });
        return command;
    }

    private static void Print(GgufFile gguf, long? context, bool tensors, TextWriter o)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine($"file:      {gguf.Path}");
        if (gguf.Files.Count > 1)
            o.WriteLine($"files:     {gguf.Files.Count} ({string.Join(", ", gguf.Files.Select(Path.GetFileName))})");
        o.WriteLine($"size:      {Bytes(gguf.TotalFileSize)} ({gguf.TotalFileSize.ToString("N0", inv)} bytes)");
        var data = gguf.Tensors.Count == 0 ? "no tensors" : $"data at byte {gguf.DataOffset()}";
        o.WriteLine($"format:    GGUF v{gguf.Version}, alignment {gguf.Alignment}, {data}"
                    + (gguf.ShardCount > 1 ? $", {gguf.ShardCount} gguf-split shards" : ""));
        o.WriteLine();
        o.WriteLine($"metadata ({gguf.Metadata.Count} keys):");
        var keyWidth = gguf.Metadata.Count == 0 ? 0 : gguf.Metadata.Max(kv => kv.Key.Length);
        foreach (var kv in gguf.Metadata)
            o.WriteLine($"  {kv.Key.PadRight(keyWidth)}  {TypeText(kv)}  {ValueText(kv.Value)}");

        if (tensors && gguf.Tensors.Count > 0)
        {
            o.WriteLine();
            o.WriteLine($"tensors ({gguf.Tensors.Count}):");
            var nameWidth = Math.Max(4, gguf.Tensors.Max(t => t.Name.Length));
            var shapeWidth = Math.Max(5, gguf.Tensors.Max(t => t.ShapeText.Length));
            var shards = gguf.ShardCount > 1;
            o.WriteLine($"  {"name".PadRight(nameWidth)}  {"type",-7}  {"shape".PadRight(shapeWidth)}  {(shards ? "shard  " : "")}{"offset",14}  {"bytes",14}");
            foreach (var t in gguf.Tensors)
            {
                o.WriteLine($"  {t.Name.PadRight(nameWidth)}  {t.TypeName,-7}  {t.ShapeText.PadRight(shapeWidth)}  {(shards ? $"{t.Shard + 1,5}  " : "")}" +
                            $"{(gguf.DataOffset(t.Shard) + t.Offset).ToString(inv),14}  {t.ByteSize.ToString(inv),14}");
            }
            var byType = gguf.Tensors.GroupBy(t => t.TypeName).OrderByDescending(g => g.Sum(t => t.ByteSize))
                .Select(g => $"{g.Key} x{g.Count()}");
            o.WriteLine($"  types: {string.Join(", ", byType)}");
        }

        var summary = GgufModelSummary.Of(gguf);
        o.WriteLine();
        o.WriteLine($"parameters:      {Count(summary.ParameterCount)} ({summary.ParameterCount.ToString("N0", inv)})");
        o.WriteLine($"weights:         {Bytes(summary.WeightBytes)}, {summary.BitsPerWeight.ToString("F2", inv)} bits per weight");
        if (summary.LayerCount > 0 && summary.KeyWidth > 0)
        {
            var ctx = context ?? summary.ContextLength;
            o.WriteLine($"memory to run at context {ctx} (weights + KV cache of {summary.LayerCount} layers x {summary.KeyWidth} K + {summary.ValueWidth} V per token):");
            o.WriteLine($"  F16 KV cache:  {Bytes(summary.KvCacheBytes(ctx, 2))}  total {Bytes(summary.MemoryToRun(ctx, 2))}");
            o.WriteLine($"  F32 KV cache:  {Bytes(summary.KvCacheBytes(ctx, 4))}  total {Bytes(summary.MemoryToRun(ctx, 4))}");
        }
    }

    private static string TypeText(GgufKeyValue kv) =>
        (kv.Value is GgufArray a ? $"{a.ElementType}[{a.Count}]" : kv.Type.ToString()).PadRight(14);

    private static string ValueText(object value)
    {
        switch (value)
        {
            case string s:
                var oneLine = s.ReplaceLineEndings("\\n");
                return Quote(oneLine.Length > StringPreview ? oneLine[..StringPreview] + $"... ({s.Length} chars)" : oneLine);
            case GgufArray a:
                var shown = a.Values.Cast<object>().Take(ArrayPreview).Select(ValueText);
                return "[" + string.Join(", ", shown) + (a.Count > ArrayPreview ? $", ... {a.Count - ArrayPreview} more]" : "]");
            case float f:
                return f.ToString("R", CultureInfo.InvariantCulture);
            case double d:
                return d.ToString("R", CultureInfo.InvariantCulture);
            case bool b:
                return b ? "true" : "false";
            default:
                return Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        }
    }

    private static string Quote(string s) => "\"" + s.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    internal static string Bytes(long n)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = n;
        var u = 0;
        while (v >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        return u == 0 ? $"{n} B" : v.ToString("F2", CultureInfo.InvariantCulture) + " " + units[u];
    }

    private static string Count(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("F2", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("F2", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1e3).ToString("F1", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
