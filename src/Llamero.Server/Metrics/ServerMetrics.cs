using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Llamero.Server.Metrics;

/// <summary>
/// Counters behind <c>GET /metrics</c>, written in Prometheus text format. Everything is lock-free
/// (Interlocked), so the decode thread and request threads update them without waiting on each other.
/// </summary>
public sealed class ServerMetrics
{
    private readonly ConcurrentDictionary<(string Route, int Status), long> _requests = new();
    private long _promptTokens;
    private long _promptTokensCached;
    private long _generatedTokens;
    private long _rejected;
    private long _decodeTicks;
    private long _decodeSteps;
    private long _decodeBatchTokens;

    /// <summary>Counts a finished HTTP request.</summary>
    public void Request(string route, int status) => _requests.AddOrUpdate((route, status), 1, (_, n) => n + 1);

    /// <summary>Counts prompt tokens evaluated by the model.</summary>
    public void PromptTokensEvaluated(int n) => Interlocked.Add(ref _promptTokens, n);

    /// <summary>Counts prompt tokens reused from a slot's cache.</summary>
    public void PromptTokensCached(int n) => Interlocked.Add(ref _promptTokensCached, n);

    /// <summary>Counts one generated token.</summary>
    public void TokenGenerated() => Interlocked.Increment(ref _generatedTokens);

    /// <summary>Counts a request refused because the queue was full.</summary>
    public void Rejected() => Interlocked.Increment(ref _rejected);

    /// <summary>Adds time the decode loop spent working (not idle), in <see cref="Stopwatch"/> ticks.</summary>
    public void DecodeBusy(long stopwatchTicks) => Interlocked.Add(ref _decodeTicks, stopwatchTicks);

    /// <summary>Counts one batched decode step (one forward pass for every busy slot) of <paramref name="tokens"/> tokens.</summary>
    public void DecodeStep(int tokens)
    {
        Interlocked.Increment(ref _decodeSteps);
        Interlocked.Add(ref _decodeBatchTokens, tokens);
    }

    /// <summary>Generated tokens so far.</summary>
    public long GeneratedTokens => Interlocked.Read(ref _generatedTokens);

    /// <summary>Tokens generated per second of decode-loop work (all slots together).</summary>
    public double TokensPerSecond
    {
        get
        {
            var seconds = Interlocked.Read(ref _decodeTicks) / (double)Stopwatch.Frequency;
            return seconds > 0 ? GeneratedTokens / seconds : 0;
        }
    }

    /// <summary>The Prometheus exposition text; gauges come from the scheduler.</summary>
    public string Render(int queueDepth, int slotsBusy, int slotsTotal)
    {
        var s = new StringBuilder();
        s.Append("# HELP llamero_requests_total HTTP requests by route and status.\n# TYPE llamero_requests_total counter\n");
        foreach (var ((route, status), n) in _requests.OrderBy(kv => kv.Key.Route, StringComparer.Ordinal).ThenBy(kv => kv.Key.Status))
            s.Append(CultureInfo.InvariantCulture, $"llamero_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}\n");
        Counter(s, "llamero_prompt_tokens_total", "Prompt tokens evaluated by the model.", Interlocked.Read(ref _promptTokens));
        Counter(s, "llamero_prompt_tokens_cached_total", "Prompt tokens reused from a slot's KV cache.", Interlocked.Read(ref _promptTokensCached));
        Counter(s, "llamero_generated_tokens_total", "Tokens generated.", GeneratedTokens);
        Counter(s, "llamero_requests_rejected_total", "Requests refused because every slot and queue place was taken.", Interlocked.Read(ref _rejected));
        Counter(s, "llamero_decode_steps_total", "Decode steps: forward passes, each over the next tokens of every busy slot.", Interlocked.Read(ref _decodeSteps));
        Counter(s, "llamero_decode_batch_tokens_total", "Tokens evaluated by decode steps (prompt chunks and generated tokens); divided by the steps, the mean batch.", Interlocked.Read(ref _decodeBatchTokens));
        Gauge(s, "llamero_tokens_per_second", "Generated tokens per second of decode work, all slots together.", TokensPerSecond);
        Gauge(s, "llamero_queue_depth", "Requests waiting for a slot.", queueDepth);
        Gauge(s, "llamero_slots_busy", "Slots running a request.", slotsBusy);
        Gauge(s, "llamero_slots_total", "Slots sharing the model.", slotsTotal);
        return s.ToString();
    }

    private static void Counter(StringBuilder s, string name, string help, long value) =>
        s.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");

    private static void Gauge(StringBuilder s, string name, string help, double value) =>
        s.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value:0.###}\n");
}
