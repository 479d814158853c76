using System.Diagnostics;
using System.Globalization;
using System.Net;
using Llamero.LoadRunner;

// Load run: a single client, then N concurrent streaming clients (for each N of a comma-separated list), against a
// running `llamero serve`, each for a bounded time. Every request must complete or get a clean 429/503 (Retry-After + error JSON); anything else is
// counted as lost. Prints aggregate tokens/s for both runs and p50/p99 time to first token.
//
// With continuous batching the server's /metrics count decode steps and the tokens they evaluated; the mean batch of
// each run is printed from their difference.
//
//   dotnet run -c Release --project benchmarks/Llamero.LoadRunner -- --url http://127.0.0.1:8080/ --clients 4,16 --seconds 20
var url = Arg("--url", "http://127.0.0.1:8080/");
var clientCounts = Arg("--clients", "32").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
var seconds = double.Parse(Arg("--seconds", "15"), CultureInfo.InvariantCulture);
var maxTokens = int.Parse(Arg("--max-tokens", "64"), CultureInfo.InvariantCulture);
var key = Environment.GetEnvironmentVariable("LLAMERO_API_KEY");

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(5) };
if (key is not null)
    http.DefaultRequestHeaders.Authorization = new("Bearer", key);
var body = $$$"""{"messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":{{{maxTokens}}},"stream":true,"stream_options":{"include_usage":true}}""";

var single = await RunAsync(1);
var lost = single.Lost;
var lines = new List<string>();
foreach (var clients in clientCounts)
{
    var many = await RunAsync(clients);
    lost += many.Lost;
    lines.Add($"aggregate tokens/s: {many.TokensPerSecond:F1} with {clients} clients vs {single.TokensPerSecond:F1} with 1 client ({many.TokensPerSecond / single.TokensPerSecond:F2}x)");
}
Console.WriteLine();
lines.ForEach(Console.WriteLine);
return lost == 0 ? 0 : 1;

async Task<Summary> RunAsync(int n)
{
    var (stepsBefore, batchTokensBefore) = await DecodeCountersAsync();
    var results = new List<RequestResult>();
    var deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
    var started = Stopwatch.GetTimestamp();
    var workers = Enumerable.Range(0, n).Select(async _ =>
    {
        var mine = new List<RequestResult>();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            RequestResult result;
            try
            {
                result = await StreamingClient.RunAsync(http, body, CancellationToken.None);
            }
            catch (Exception e)
            {
                result = new RequestResult(0, null, 0, false, e.GetType().Name + ": " + e.Message);
            }
            mine.Add(result);
            if (result.Status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
                await Task.Delay(100); // Retry-After says 1 s; a shorter pause keeps the queue under pressure
        }
        return mine;
    }).ToArray();
    foreach (var w in await Task.WhenAll(workers))
        results.AddRange(w);
    var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;

    var ok = results.Where(r => r.Status == HttpStatusCode.OK && r.Clean).ToList();
    var refused = results.Count(r => r.Status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests && r.Clean);
    var lost = results.Count - ok.Count - refused;
    var tokens = ok.Sum(r => r.Tokens);
    var ttft = ok.Where(r => r.TimeToFirstTokenMs is not null).Select(r => r.TimeToFirstTokenMs!.Value).Order().ToArray();
    var summary = new Summary(tokens / elapsed, lost);
    Console.WriteLine($"{n,3} clients, {elapsed:F1} s: {ok.Count} completed, {refused} refused cleanly (429/503), {lost} lost; " +
                      $"{tokens} tokens = {summary.TokensPerSecond:F1} tokens/s; time to first token p50 {Percentile(ttft, 0.50):F0} ms, p99 {Percentile(ttft, 0.99):F0} ms");
    var (stepsAfter, batchTokensAfter) = await DecodeCountersAsync();
    if (stepsAfter > stepsBefore)
        Console.WriteLine($"    decode steps {stepsAfter - stepsBefore:F0}, mean tokens per step {(batchTokensAfter - batchTokensBefore) / (stepsAfter - stepsBefore):F2}");
    foreach (var problem in results.Where(r => r.Problem is not null && !(r.Status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests && r.Clean)).Select(r => r.Problem).Distinct().Take(5))
        Console.WriteLine($"    problem: {problem}");
    return summary;
}

// The server's decode-step counters (NaN when it does not expose them).
async Task<(double Steps, double BatchTokens)> DecodeCountersAsync()
{
    try
    {
        var text = await http.GetStringAsync("metrics");
        return (Metric(text, "llamero_decode_steps_total"), Metric(text, "llamero_decode_batch_tokens_total"));
    }
    catch (HttpRequestException)
    {
        return (double.NaN, double.NaN);
    }
}

static double Metric(string text, string name)
{
    var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
    return line is null ? double.NaN : double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
}

static double Percentile(double[] sorted, double p) =>
    sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

internal sealed record Summary(double TokensPerSecond, int Lost);
