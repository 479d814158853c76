using System.Globalization;

namespace Llamero.Evaluation;

/// <summary>Prints --kl-divergence results in llama-perplexity's layout (per-chunk lines, then the statistics).</summary>
public static class KlDivergenceReport
{
    /// <summary>The column header printed before the chunk lines.</summary>
    public const string Header = "chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p";

    /// <summary>One line after chunk <paramref name="chunk"/>: running PPL, ln ratio, KLD, RMS Δp, same top.</summary>
    public static string ChunkLine(int chunk, KlDivergenceStats s)
    {
        var (logPpl, dLogPpl) = s.LogPpl;
        var ppl = Math.Exp(logPpl);
        var ratio = s.LogPplRatio;
        var kld = s.Kld;
        var rms = s.PDiffRms;
        var top = s.SameTopP;
        return F($"{chunk,4}    {ppl,9:F4} ± {ppl * dLogPpl,9:F4}    {ratio.Mean,10:F5} ± {ratio.Error,10:F5}    {kld.Mean,10:F5} ± {kld.Error,10:F5}    {100 * rms.Mean,6:F3} ± {100 * rms.Error,6:F3} %    {100 * top.Mean,6:F3} ± {100 * top.Error,6:F3} %");
    }

    /// <summary>The closing statistics; empty with fewer than 100 tokens (llama.cpp prints none then either).</summary>
    public static IEnumerable<string> Summary(KlDivergenceStats s)
    {
        if (s.Count < 100)
            yield break;
        var kldValues = s.KldValues.Order().ToArray();
        var pDiffValues = s.PDiffValues.Order().ToArray();

        yield return "====== Perplexity statistics ======";
        var (logPpl, dLogPpl) = s.LogPpl;
        var ppl = Math.Exp(logPpl);
        var dPpl = ppl * dLogPpl;
        yield return F($"Mean PPL(Q)                   : {ppl,10:F6} ± {dPpl,10:F6}");
        var (logBase, dLogBase) = s.LogPplBase;
        var pplBase = Math.Exp(logBase);
        var dPplBase = pplBase * dLogBase;
        yield return F($"Mean PPL(base)                : {pplBase,10:F6} ± {dPplBase,10:F6}");
        var cov = s.LogPplCovariance;
        yield return F($"Cor(ln(PPL(Q)), ln(PPL(base))): {100 * cov / (dLogPpl * dLogBase),6:F2}%");
        var ratio = s.LogPplRatio;
        yield return F($"Mean ln(PPL(Q)/PPL(base))     : {ratio.Mean,10:F6} ± {ratio.Error,10:F6}");
        var pplRatio = Math.Exp(ratio.Mean);
        yield return F($"Mean PPL(Q)/PPL(base)         : {pplRatio,10:F6} ± {pplRatio * ratio.Error,10:F6}");
        var pplCov = ppl * pplBase * cov;
        yield return F($"Mean PPL(Q)-PPL(base)         : {ppl - pplBase,10:F6} ± {Math.Sqrt(dPpl * dPpl + dPplBase * dPplBase - 2 * pplCov),10:F6}");
        yield return "";

        yield return "====== KL divergence statistics ======";
        var kld = s.Kld;
        yield return F($"Mean    KLD: {kld.Mean,10:F6} ± {kld.Error,10:F6}");
        yield return F($"Maximum KLD: {kldValues[^1],10:F6}");
        foreach (var (label, fraction) in new[] { ("99.9%", 0.999f), ("99.0%", 0.990f), ("95.0%", 0.950f), ("90.0%", 0.900f) })
            yield return F($"{label}   KLD: {Percentile(kldValues, fraction),10:F6}");
        yield return F($"Median  KLD: {Median(kldValues),10:F6}");
        foreach (var (label, fraction) in new[] { ("10.0%", 0.100f), (" 5.0%", 0.050f), (" 1.0%", 0.010f), (" 0.1%", 0.001f) })
            yield return F($"{label}   KLD: {Percentile(kldValues, fraction),10:F6}");
        yield return F($"Minimum KLD: {kldValues[0],10:F6}");
        yield return "";

        yield return "====== Token probability statistics ======";
        var pDiff = s.PDiff;
        yield return F($"Mean    Δp: {100 * pDiff.Mean,6:F3} ± {100 * pDiff.Error,5:F3} %");
        yield return F($"Maximum Δp: {100.0 * pDiffValues[^1],6:F3}%");
        foreach (var (label, fraction) in new[] { ("99.9%", 0.999f), ("99.0%", 0.990f), ("95.0%", 0.950f), ("90.0%", 0.900f), ("75.0%", 0.750f) })
            yield return F($"{label}   Δp: {100.0 * Percentile(pDiffValues, fraction),6:F3}%");
        yield return F($"Median  Δp: {100.0 * Median(pDiffValues),6:F3}%");
        foreach (var (label, fraction) in new[] { ("25.0%", 0.250f), ("10.0%", 0.100f), (" 5.0%", 0.050f), (" 1.0%", 0.010f), (" 0.1%", 0.001f) })
            yield return F($"{label}   Δp: {100.0 * Percentile(pDiffValues, fraction),6:F3}%");
        yield return F($"Minimum Δp: {100.0 * pDiffValues[0],6:F3}%");
        var rms = s.PDiffRms;
        yield return F($"RMS Δp    : {100 * rms.Mean,6:F3} ± {100 * rms.Error,5:F3} %");
        var top = s.SameTopP;
        yield return F($"Same top p: {100 * top.Mean,6:F3} ± {100 * top.Error,5:F3} %");
    }

    /// <summary>llama.cpp's interpolated percentile over sorted values.</summary>
    internal static float Percentile(float[] sorted, float fraction)
    {
        if (fraction <= 0)
            return sorted[0];
        if (fraction >= 1)
            return sorted[^1];
        var p = fraction * (sorted.Length - 1);
        var ip = (int)p;
        p -= ip;
        return (1 - p) * sorted[ip] + p * sorted[Math.Min(ip + 1, sorted.Length - 1)];
    }

    private static float Median(float[] sorted) =>
        sorted.Length % 2 == 0 ? 0.5f * (sorted[sorted.Length / 2] + sorted[sorted.Length / 2 - 1]) : sorted[sorted.Length / 2];

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
