using System.CommandLine;
using Llamero.Gguf;

namespace Llamero.Cli.Commands;

/// <summary><c>llamero join PART OUTPUT</c>: concatenates byte-split parts (<c>x.gguf-split-a</c>, <c>-split-b</c>) with verification.</summary>
internal static class JoinCommand
{
    public static Command Create()
    {
        var part = new Argument<string>("part") { Description = "Any part (x.gguf-split-a, -split-b) or the joined name x.gguf." };
        var output = new Argument<string>("output") { Description = "The joined GGUF file to write." };
        var command = new Command("join", "Join byte-split parts (x.gguf-split-a, -split-b, ...) into one GGUF, checking the header and total size first.")
        {
            part, output,
        };
        command.SetAction(parseResult =>
        {
            var o = parseResult.InvocationConfiguration.Output;
            return GgufCommandErrors.Run(parseResult.InvocationConfiguration.Error, () =>
            {
                var target = parseResult.GetValue(output)!;
                var parts = GgufByteSplit.Join(parseResult.GetValue(part)!, target);
                o.WriteLine($"joined {parts.Count} parts ({string.Join(", ", parts.Select(Path.GetFileName))}) into {target} ({new FileInfo(target).Length} bytes)");
                return 0;
            });
        });
        return command;
    }
}
