using System.Globalization;
using System.Text;

namespace Llamero.Generation;

/// <summary>Counts and times of one generation, printed like llama.cpp's <c>llama_perf_*_print</c>.</summary>
public sealed record GenerationTimings
{
    /// <summary>Prompt tokens evaluated (tokens already in the cache are not counted).</summary>
    public int PromptTokens { get; init; }

    /// <summary>Time spent evaluating them.</summary>
    public TimeSpan PromptTime { get; init; }

    /// <summary>Tokens evaluated one at a time while generating.</summary>
    public int EvalRuns { get; init; }

    /// <summary>Time spent in those evaluations.</summary>
    public TimeSpan EvalTime { get; init; }

    /// <summary>Tokens sampled.</summary>
    public int SampledTokens { get; init; }

    /// <summary>Time spent sampling.</summary>
    public TimeSpan SampleTime { get; init; }

    /// <summary>Context shifts performed.</summary>
    public int ContextShifts { get; init; }

    /// <summary>Prompt evaluation speed in tokens per second (0 when nothing was evaluated).</summary>
    public double PromptTokensPerSecond => Rate(PromptTokens, PromptTime);

    /// <summary>Generation speed in tokens per second (0 when nothing was evaluated).</summary>
    public double EvalTokensPerSecond => Rate(EvalRuns, EvalTime);

    /// <summary>The llama.cpp-style report, one line per measure, optionally with the load time first.</summary>
    public string Format(TimeSpan? loadTime = null)
    {
        var text = new StringBuilder();
        Line(text, "sampling time", SampleTime, SampledTokens, "runs  ");
        if (loadTime is { } load)
            text.Append(CultureInfo.InvariantCulture, $"{"load time",18} = {load.TotalMilliseconds,10:F2} ms\n");
        Line(text, "prompt eval time", PromptTime, PromptTokens, "tokens");
        Line(text, "eval time", EvalTime, EvalRuns, "runs  ");
        var total = (loadTime ?? TimeSpan.Zero) + PromptTime + EvalTime + SampleTime;
        text.Append(CultureInfo.InvariantCulture, $"{"total time",18} = {total.TotalMilliseconds,10:F2} ms / {PromptTokens + EvalRuns,5} tokens\n");
        return text.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => Format();

    private static void Line(StringBuilder text, string label, TimeSpan time, int count, string unit)
    {
        var ms = time.TotalMilliseconds;
        var perToken = count > 0 ? ms / count : 0;
        text.Append(CultureInfo.InvariantCulture,
            $"{label,18} = {ms,10:F2} ms / {count,5} {unit} ({perToken,8:F2} ms per token, {Rate(count, time),8:F2} tokens per second)\n");
    }

    private static double Rate(int count, TimeSpan time) => count > 0 && time > TimeSpan.Zero ? count / time.TotalSeconds : 0;
}
