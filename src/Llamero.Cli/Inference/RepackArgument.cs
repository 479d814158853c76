using System.CommandLine;
using System.Globalization;
using Llamero.Models;

namespace Llamero.Cli.Inference;

/// <summary>
/// llama.cpp's <c>-nr, --no-repack</c>: keep the weights in the file's layout instead of repacking them at load time
/// into the interleaved layouts the fast kernels read. Shared by every command that loads a model.
/// </summary>
internal sealed class RepackArgument
{
    public Option<bool> NoRepack { get; } = new("--no-repack", "-nr")
    {
        Description = "Do not repack the weights at load time: multiply them where they lie in the mapped file (loads faster, shares the file's pages, runs slower).",
    };

    /// <summary>The load options the command line asks for.</summary>
    public ModelLoadOptions Read(ParseResult result) =>
        result.GetValue(NoRepack) ? new ModelLoadOptions { RepackWeights = false } : ModelLoadOptions.Default;

    /// <summary>One line saying what loading repacked, e.g. <c>repack: 154 matrices into interleaved layouts, 600.00 MiB</c>.</summary>
    public static string Describe(LlamaModel model, ModelLoadOptions asked)
    {
        var (matrices, bytes) = model.Repacked;
        if (matrices == 0)
            return asked.RepackWeights ? "repack: no matrix has an interleaved layout, all multiplied in the file's layout" : "repack: off (--no-repack), all matrices multiplied in the file's layout";
        var mib = (bytes / 1048576.0).ToString("F2", CultureInfo.InvariantCulture);
        var w = model.Weights;
        var layouts = w.Layers.SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down }).Append(w.Output)
            .Where(m => m.Layout is not null).GroupBy(m => m.Layout!.Name).Select(g => $"{g.Key} x{g.Count()}");
        return $"repack: {matrices} matrices into interleaved layouts ({string.Join(", ", layouts)}), {mib} MiB (their file pages released; --no-repack keeps the file's layout)";
    }
}
