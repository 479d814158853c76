using System.CommandLine;
using Llamero.Gguf;

namespace Llamero.Cli.Commands;

/// <summary><c>llamero merge FIRST_SHARD OUTPUT</c>: one GGUF from a gguf-split shard set.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var shard = new Argument<string>("first-shard") { Description = "A shard of the set: NAME-00001-of-0000N.gguf." };
        var output = new Argument<string>("output") { Description = "The merged GGUF to write (must not exist)." };
        var command = new Command("merge", "Merge llama.cpp gguf-split shards into one GGUF (the split.* keys are dropped).")
        {
            shard, output,
        };
        command.SetAction(parseResult =>
        {
            var o = parseResult.InvocationConfiguration.Output;
            return GgufCommandErrors.Run(parseResult.InvocationConfiguration.Error, () =>
            {
                var target = parseResult.GetValue(output)!;
                GgufShards.Merge(parseResult.GetValue(shard)!, target);
                o.WriteLine($"wrote {target} ({new FileInfo(target).Length} bytes)");
                return 0;
            });
        });
        return command;
    }
}
