using System.Text.Json;
using System.Text.Json.Serialization;

namespace Llamero.Benchmarks.SideBySide;

/// <summary>What one engine measured in one child process: tokens/s per test, peak resident memory, open-to-first-token.</summary>
internal sealed record Measurement(
    string Engine,
    Dictionary<string, double> TokensPerSecond,
    long PeakRssBytes,
    double OpenToFirstTokenSeconds)
{
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static Measurement FromJson(string line) =>
        JsonSerializer.Deserialize<Measurement>(line, Json) ?? throw new InvalidDataException("empty measurement");

    /// <summary>This process's peak resident set (VmHWM), in bytes.</summary>
    public static long PeakRss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
        }
        return 0;
    }
}

/// <summary>The tests to run in a child process: each after <paramref name="Depth"/> tokens already in the cache
/// (llama-bench's -d), in a context of at least <paramref name="Context"/> positions (both engines alike).</summary>
internal sealed record MeasureRequest(string Engine, string Model, int Threads, int[] Prompt, int[] Generate, int Repetitions, bool Repack = true,
    int Context = 0, int Depth = 0)
{
    /// <summary>The context both engines get: what the longest test needs, or <see cref="Context"/> if larger.</summary>
    public int ContextSize => Math.Max(Context, Depth + Math.Max(Prompt.DefaultIfEmpty(0).Max(), Generate.DefaultIfEmpty(0).Max() + 1));

    public static int[] RandomTokens(int vocab, int count, int seed = 42)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(vocab)).ToArray();
    }
}
