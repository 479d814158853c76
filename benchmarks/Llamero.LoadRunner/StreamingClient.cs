using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Llamero.LoadRunner;

/// <summary>Outcome of one streaming request.</summary>
internal sealed record RequestResult(HttpStatusCode Status, double? TimeToFirstTokenMs, int Tokens, bool Clean, string? Problem);

/// <summary>One streaming chat request, checked for exact SSE framing and a final usage chunk.</summary>
internal static class StreamingClient
{
    public static async Task<RequestResult> RunAsync(HttpClient http, string body, CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
        {
            var clean = response.Headers.RetryAfter is not null && (await response.Content.ReadAsStringAsync(cancellation)).Contains("\"error\"");
            return new RequestResult(response.StatusCode, null, 0, clean, clean ? null : "refusal without Retry-After or error body");
        }
        if (response.StatusCode != HttpStatusCode.OK)
            return new RequestResult(response.StatusCode, null, 0, false, await response.Content.ReadAsStringAsync(cancellation));

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation));
        double? ttft = null;
        var tokens = 0;
        var done = false;
        while (await reader.ReadLineAsync(cancellation) is { } line)
        {
            if (line.Length == 0)
                continue;
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
                return new RequestResult(response.StatusCode, ttft, tokens, false, $"bad SSE line: {line}");
            var data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                done = true;
                continue;
            }
            using var json = JsonDocument.Parse(data);
            var root = json.RootElement;
            if (root.TryGetProperty("error", out var error))
                return new RequestResult(response.StatusCode, ttft, tokens, false, error.ToString());
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                tokens = usage.GetProperty("completion_tokens").GetInt32();
            foreach (var choice in root.GetProperty("choices").EnumerateArray())
            {
                if (ttft is null && choice.GetProperty("delta").TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 })
                    ttft = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }
        return new RequestResult(response.StatusCode, ttft, tokens, done, done ? null : "stream ended without [DONE]");
    }
}
